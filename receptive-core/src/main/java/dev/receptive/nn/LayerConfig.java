package dev.receptive.nn;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.HashSet;
import java.util.Set;

/**
 * The settings of one layer in architecture JSON. A layer writes its settings with the
 * {@code put} methods in {@link Layer#writeConfig}; the factory registered with
 * {@link Layers#register} reads them back with the getters, which are strict: every error names
 * the layer ("layers[3] (Conv2d)") and the field, and after the factory returns, a field it never
 * read is an error too.
 */
public final class LayerConfig {
    private final JsonObject object;
    private final String where;
    private final Set<String> read = new HashSet<>();

    LayerConfig(JsonObject object, String where) {
        this.object = object;
        this.where = where;
    }

    /** An empty config to write into. */
    static LayerConfig empty() {
        return new LayerConfig(new JsonObject(), "config");
    }

    JsonObject json() {
        return object;
    }

    // ---- writing ------------------------------------------------------------------------

    /**
     * Sets an integer setting, replacing one of the same key.
     *
     * @param key the field name in JSON, e.g. "filters"
     * @param value the value, written exactly
     * @return this config, for chaining
     */
    public LayerConfig put(String key, long value) {
        object.addProperty(key, value);
        return this;
    }

    /**
     * Sets a number setting, replacing one of the same key.
     *
     * @param key the field name in JSON, e.g. "rate"
     * @param value a finite value ({@link #getDouble} rejects others when the file is read back)
     * @return this config, for chaining
     */
    public LayerConfig put(String key, double value) {
        object.addProperty(key, value);
        return this;
    }

    /**
     * Sets a true/false setting, replacing one of the same key.
     *
     * @param key the field name in JSON, e.g. "bias"
     * @param value written as JSON true or false
     * @return this config, for chaining
     */
    public LayerConfig put(String key, boolean value) {
        object.addProperty(key, value);
        return this;
    }

    /**
     * Sets a text setting, replacing one of the same key.
     *
     * @param key the field name in JSON, e.g. "init"
     * @param value written as a JSON string (null writes JSON null, which the getters treat as missing)
     * @return this config, for chaining
     */
    public LayerConfig put(String key, String value) {
        object.addProperty(key, value);
        return this;
    }

    /**
     * Sets a [height, width] setting, replacing one of the same key.
     *
     * @param key the field name in JSON, e.g. "kernel"
     * @param height the first element
     * @param width the second element
     * @return this config, for chaining
     */
    public LayerConfig putPair(String key, int height, int width) {
        JsonArray array = new JsonArray();
        array.add(height);
        array.add(width);
        object.add(key, array);
        return this;
    }

    // ---- reading ------------------------------------------------------------------------

    /**
     * Whether the field is present (for optional settings); it then counts as read.
     *
     * @param key the field name
     * @return true when the field is there and not JSON null
     */
    public boolean has(String key) {
        read.add(key);
        JsonElement e = object.get(key);
        return e != null && !e.isJsonNull();
    }

    /**
     * A text setting.
     *
     * @param key the field name
     * @return its value
     * @throws IllegalArgumentException naming the layer and field when it is missing or not a string
     */
    public String getString(String key) {
        JsonElement e = get(key);
        if (!(e instanceof JsonPrimitive p) || !p.isString()) {
            throw error(key, "must be a string, got " + e);
        }
        return p.getAsString();
    }

    /**
     * A true/false setting.
     *
     * @param key the field name
     * @return its value
     * @throws IllegalArgumentException naming the layer and field when it is missing or not a boolean
     */
    public boolean getBoolean(String key) {
        JsonElement e = get(key);
        if (!(e instanceof JsonPrimitive p) || !p.isBoolean()) {
            throw error(key, "must be true or false, got " + e);
        }
        return p.getAsBoolean();
    }

    /**
     * A finite number setting.
     *
     * @param key the field name
     * @return its value
     * @throws IllegalArgumentException naming the layer and field when it is missing, not a number, or not finite
     */
    public double getDouble(String key) {
        JsonElement e = get(key);
        if (e instanceof JsonPrimitive p && p.isNumber()) {
            double d = p.getAsDouble();
            if (Double.isFinite(d)) {
                return d;
            }
        }
        throw error(key, "must be a finite number, got " + e);
    }

    /**
     * An integer setting ≥ {@code min}.
     *
     * @param key the field name
     * @param min the least value allowed
     * @return its value
     * @throws IllegalArgumentException naming the layer and field when it is missing, not a whole number, below
     *     min or beyond int
     */
    public int getInt(String key, int min) {
        return asInteger(key, get(key), min);
    }

    /**
     * Any 64-bit integer, read exactly (a seed does not survive a trip through double).
     *
     * @param key the field name
     * @return its value
     * @throws IllegalArgumentException naming the layer and field when it is missing or not a whole number that
     *     fits a long
     */
    public long getLong(String key) {
        JsonElement e = get(key);
        if (e instanceof JsonPrimitive p && p.isNumber()) {
            try {
                return p.getAsBigDecimal().longValueExact();
            } catch (ArithmeticException | NumberFormatException ignored) {
                // reported below
            }
        }
        throw error(key, "must be a 64-bit integer, got " + e);
    }

    /**
     * A [height, width] setting of integers ≥ {@code min}.
     *
     * @param key the field name
     * @param min the least value allowed for each element
     * @return a new array {height, width}
     * @throws IllegalArgumentException naming the layer and field when it is missing, not an array of two, or an
     *     element is not an integer ≥ min
     */
    public int[] getPair(String key, int min) {
        JsonElement e = get(key);
        if (!(e instanceof JsonArray a) || a.size() != 2) {
            throw error(key, "must be an array [height, width], got " + e);
        }
        return new int[] {asInteger(key, a.get(0), min), asInteger(key, a.get(1), min)};
    }

    /**
     * A non-empty array of integers ≥ {@code min}, such as an input shape [1, 28, 28].
     *
     * @param key the field name
     * @param min the least value allowed for each element
     * @return a new array with the elements in order
     * @throws IllegalArgumentException naming the layer and field when it is missing, empty, or an element is not
     *     an integer ≥ min
     */
    public int[] getInts(String key, int min) {
        JsonElement e = get(key);
        if (!(e instanceof JsonArray a) || a.isEmpty()) {
            throw error(key, "must be a non-empty array of integers >= " + min + ", got " + e);
        }
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = asInteger(key, a.get(i), min);
        }
        return out;
    }

    JsonArray array(String key) {
        JsonElement e = get(key);
        if (!(e instanceof JsonArray a)) {
            throw error(key, "must be an array, got " + e);
        }
        return a;
    }

    /** Fails on the first field that no getter asked for. */
    void rejectUnknown() {
        for (String field : object.keySet()) {
            if (!read.contains(field)) {
                throw new IllegalArgumentException("architecture: " + where + ": unknown field '" + field + "'");
            }
        }
    }

    /**
     * An error naming this layer and {@code key}: "architecture: layers[3] (Conv2d): field 'kernel' …", for a
     * factory's own checks; the caller throws it.
     *
     * @param key the field at fault
     * @param problem what is wrong, e.g. "must be odd, got 4"
     * @return the exception, not yet thrown
     */
    public IllegalArgumentException error(String key, String problem) {
        return new IllegalArgumentException("architecture: " + where + ": field '" + key + "' " + problem);
    }

    private JsonElement get(String key) {
        read.add(key);
        JsonElement e = object.get(key);
        if (e == null || e.isJsonNull()) {
            throw error(key, "is missing");
        }
        return e;
    }

    private int asInteger(String key, JsonElement e, int min) {
        if (e instanceof JsonPrimitive p && p.isNumber()) {
            double d = p.getAsDouble();
            if (d == Math.rint(d) && d >= min && d <= Integer.MAX_VALUE) {
                return (int) d;
            }
        }
        throw error(key, "must be an integer >= " + min + ", got " + e);
    }
}
