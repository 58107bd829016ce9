package dev.receptive.nn;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.receptive.nn.init.Init;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.HashSet;
import java.util.Set;

/**
 * The settings of one layer in architecture JSON. A layer writes its settings with the
 * {@code put} methods in {@link Layer#writeConfig}; the factory registered with
 * {@link Layers#register} reads them back with the getters, which are strict: every error names
 * the layer ("layers[3] (Conv2d)") and the field, and after the factory returns, a field it never
 * read is an error too.
 *
 * <p>A layer whose settings are a record (see {@link Layers#register(String, Class, java.util.function.Function)})
 * needs none of this by hand: {@link #putRecord} writes each component under its name and
 * {@link #getRecord} reads them back, so the record is the one place the settings are declared.
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

    /**
     * Writes every component of a settings record under its name, in declaration order. Components
     * may be int, long, float, double, boolean, String, an enum (by name), {@link Init} (by name)
     * or {@link HeightWidth} ([height, width]).
     *
     * @param settings the record
     * @return this config, for chaining
     * @throws IllegalArgumentException when a component has another type
     */
    public LayerConfig putRecord(Record settings) {
        for (RecordComponent c : settings.getClass().getRecordComponents()) {
            Object v;
            try {
                c.getAccessor().setAccessible(true);
                v = c.getAccessor().invoke(settings);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("settings " + settings.getClass().getName() + ": cannot read "
                        + c.getName(), e);
            }
            String key = c.getName();
            if (v instanceof Integer || v instanceof Long) {
                put(key, ((Number) v).longValue());
            } else if (v instanceof Float f) {
                put(key, (double) f);
            } else if (v instanceof Double d) {
                put(key, (double) d);
            } else if (v instanceof Boolean b) {
                put(key, (boolean) b);
            } else if (v instanceof String t) {
                put(key, t);
            } else if (v instanceof Enum<?> e) {
                put(key, e.name());
            } else if (v instanceof Init init) {
                put(key, init.name());
            } else if (v instanceof HeightWidth hw) {
                putPair(key, hw.height(), hw.width());
            } else {
                throw new IllegalArgumentException("settings " + settings.getClass().getName() + ": component " + key
                        + " has type " + c.getType().getName() + ", which architecture JSON cannot hold");
            }
        }
        return this;
    }

    /**
     * Reads a settings record: each component by its name and type (as {@link #putRecord} writes
     * them), then the record's canonical constructor, whose own checks become errors naming this
     * layer. Every field is required.
     *
     * @param <R> the record type
     * @param type the record class; its canonical constructor must be accessible
     * @return the settings
     * @throws IllegalArgumentException naming the layer and field when a field is missing or of the wrong
     *     type, or the record refuses the values
     */
    public <R extends Record> R getRecord(Class<R> type) {
        RecordComponent[] components = type.getRecordComponents();
        Class<?>[] types = new Class<?>[components.length];
        Object[] values = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            values[i] = read(components[i].getName(), types[i]);
        }
        try {
            Constructor<R> canonical = type.getDeclaredConstructor(types);
            canonical.setAccessible(true);
            return canonical.newInstance(values);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof IllegalArgumentException bad) {
                throw new IllegalArgumentException("architecture: " + where + ": " + bad.getMessage(), bad);
            }
            throw new IllegalStateException("settings " + type.getName() + " failed: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("settings " + type.getName() + ": no accessible canonical constructor", e);
        }
    }

    private Object read(String key, Class<?> t) {
        if (t == int.class) {
            return asInteger(key, get(key), Integer.MIN_VALUE);
        } else if (t == long.class) {
            return getLong(key);
        } else if (t == float.class) {
            return (float) getDouble(key);
        } else if (t == double.class) {
            return getDouble(key);
        } else if (t == boolean.class) {
            return getBoolean(key);
        } else if (t == String.class) {
            return getString(key);
        } else if (t.isEnum()) {
            String name = getString(key);
            for (Object constant : t.getEnumConstants()) {
                if (((Enum<?>) constant).name().equals(name)) {
                    return constant;
                }
            }
            throw error(key, "names no known value: '" + name + "'");
        } else if (t == Init.class) {
            String name = getString(key);
            try {
                return Init.byName(name);
            } catch (IllegalArgumentException e) {
                throw error(key, "names no known init: '" + name + "' (known: he, xavier)");
            }
        } else if (t == HeightWidth.class) {
            int[] pair = getPair(key, Integer.MIN_VALUE);
            return new HeightWidth(pair[0], pair[1]);
        }
        throw new IllegalStateException("architecture: field '" + key + "' has type " + t.getName()
                + ", which architecture JSON cannot hold");
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
        throw error(key, "must be an integer" + (min == Integer.MIN_VALUE ? "" : " >= " + min) + ", got " + e);
    }
}
