package dev.receptive.cli;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import dev.receptive.data.Normalization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the command line stores beside a model's weights so that evaluate and predict treat
 * inputs as training did: the dataset, its normalization "mean,std" and the class names.
 */
final class ModelMetadata {
    static final String DATASET = "receptive.dataset";
    static final String NORMALIZATION = "receptive.normalization";
    static final String CLASSES = "receptive.classes";
    private static final Gson GSON = new Gson();

    private ModelMetadata() {
    }

    static Map<String, String> of(DatasetChoice dataset) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(DATASET, dataset.id());
        Normalization n = dataset.normalization();
        meta.put(NORMALIZATION, String.format(Locale.ROOT, "%s,%s", n.mean(), n.std()));
        meta.put(CLASSES, GSON.toJson(dataset.classNames()));
        return meta;
    }

    /** The stored normalization, or null when the file has none. */
    static Normalization normalization(Map<String, String> meta) {
        String value = meta.get(NORMALIZATION);
        if (value == null) {
            return null;
        }
        String[] parts = value.split(",");
        try {
            return new Normalization(Double.parseDouble(parts[0]), Double.parseDouble(parts[1]));
        } catch (RuntimeException e) {
            throw new UsageException("model metadata " + NORMALIZATION + " is '" + value + "', not 'mean,std'", e);
        }
    }

    /** The stored class names, or "0", "1", ... when the file has none or not {@code classes} of them. */
    static List<String> classNames(Map<String, String> meta, int classes) {
        String value = meta.get(CLASSES);
        if (value != null) {
            try {
                String[] names = GSON.fromJson(value, String[].class);
                if (names != null && names.length == classes) {
                    return List.of(names);
                }
            } catch (JsonParseException e) {
                // fall back to numbers
            }
        }
        List<String> numbers = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            numbers.add(Integer.toString(c));
        }
        return numbers;
    }
}
