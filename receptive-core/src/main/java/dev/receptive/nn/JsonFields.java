package dev.receptive.nn;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.HashSet;
import java.util.Set;

/**
 * Reads the fields of one JSON object of an architecture, strictly: every error names where it
 * is ("layers[3] (Conv2d)") and the field, and fields nobody read are reported as unknown.
 */
final class JsonFields {
    private final JsonObject object;
    private final String where;
    private final Set<String> read = new HashSet<>();

    JsonFields(JsonObject object, String where) {
        this.object = object;
        this.where = where;
    }

    static JsonArray pair(int a, int b) {
        JsonArray array = new JsonArray();
        array.add(a);
        array.add(b);
        return array;
    }

    private JsonElement get(String field) {
        read.add(field);
        JsonElement e = object.get(field);
        if (e == null || e.isJsonNull()) {
            throw error(field, "is missing");
        }
        return e;
    }

    String string(String field) {
        JsonElement e = get(field);
        if (!(e instanceof JsonPrimitive p) || !p.isString()) {
            throw error(field, "must be a string, got " + e);
        }
        return p.getAsString();
    }

    boolean bool(String field) {
        JsonElement e = get(field);
        if (!(e instanceof JsonPrimitive p) || !p.isBoolean()) {
            throw error(field, "must be true or false, got " + e);
        }
        return p.getAsBoolean();
    }

    double number(String field) {
        JsonElement e = get(field);
        if (!(e instanceof JsonPrimitive p) || !p.isNumber()) {
            throw error(field, "must be a number, got " + e);
        }
        return p.getAsDouble();
    }

    /** Any 64-bit integer, read exactly (a seed does not survive a trip through double). */
    long longInteger(String field) {
        JsonElement e = get(field);
        if (e instanceof JsonPrimitive p && p.isNumber()) {
            try {
                return p.getAsBigDecimal().longValueExact();
            } catch (ArithmeticException | NumberFormatException ignored) {
                // reported below
            }
        }
        throw error(field, "must be a 64-bit integer, got " + e);
    }

    int positiveInt(String field) {
        return asInteger(field, get(field), 1);
    }

    /** A positive int for each element: [1, 28, 28]. */
    int[] positiveInts(String field) {
        JsonElement e = get(field);
        if (!(e instanceof JsonArray a) || a.isEmpty()) {
            throw error(field, "must be a non-empty array of positive integers, got " + e);
        }
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = asInteger(field, a.get(i), 1);
        }
        return out;
    }

    /** [h, w] of integers ≥ min. */
    int[] pair(String field, int min) {
        JsonElement e = get(field);
        if (!(e instanceof JsonArray a) || a.size() != 2) {
            throw error(field, "must be an array [height, width], got " + e);
        }
        return new int[] {asInteger(field, a.get(0), min), asInteger(field, a.get(1), min)};
    }

    JsonArray array(String field) {
        JsonElement e = get(field);
        if (!(e instanceof JsonArray a)) {
            throw error(field, "must be an array, got " + e);
        }
        return a;
    }

    /** Fails on the first field that no reader asked for. */
    void rejectUnknown() {
        for (String field : object.keySet()) {
            if (!read.contains(field)) {
                throw new IllegalArgumentException("architecture: " + where + ": unknown field '" + field + "'");
            }
        }
    }

    IllegalArgumentException error(String field, String problem) {
        return new IllegalArgumentException("architecture: " + where + ": field '" + field + "' " + problem);
    }

    private int asInteger(String field, JsonElement e, int min) {
        if (e instanceof JsonPrimitive p && p.isNumber()) {
            double d = p.getAsDouble();
            if (d == Math.rint(d) && d >= min && d <= Integer.MAX_VALUE) {
                return (int) d;
            }
        }
        throw error(field, "must be an integer >= " + min + ", got " + e);
    }
}
