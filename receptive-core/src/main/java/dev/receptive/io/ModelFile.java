package dev.receptive.io;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.receptive.backend.Backend;
import dev.receptive.data.Normalization;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.ModelTooLargeException;
import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A model file: one safetensors file whose tensors are the model's parameters and buffers, named
 * and shaped as in PyTorch's state_dict ("0.weight" (K, C, R, S), "7.weight" (out, in), F32), and
 * whose {@code __metadata__} holds the architecture JSON under {@value #ARCHITECTURE}, the format
 * version under {@value #VERSION}, "format": "pt" (what PyTorch tools expect), and what inference
 * needs to know about the data ({@link ModelInfo}): the input normalization under
 * {@value #NORMALIZATION} and the class names under {@value #CLASSES}. Callers may add their own
 * string metadata. See docs/model-format.md.
 */
public final class ModelFile {
    /** Metadata key of the architecture JSON. */
    public static final String ARCHITECTURE = "receptive.architecture";
    /** Metadata key of the format version. */
    public static final String VERSION = "receptive.format_version";
    /** Metadata key of the input normalization, "mean,std". */
    public static final String NORMALIZATION = "receptive.normalization";
    /** Metadata key of the class names, a JSON array of strings. */
    public static final String CLASSES = "receptive.classes";
    /** The version this build writes: 2 adds graphs and buffers to version 1, which it still reads. */
    public static final String FORMAT_VERSION = "2";
    private static final List<String> READABLE = List.of("1", "2");
    /** Smaller than any real pixel standard deviation; a smaller one turns inputs into infinities. */
    private static final double MIN_STD = 1e-6;
    private static final System.Logger LOG = System.getLogger(ModelFile.class.getName());

    /**
     * A model file's content, read and checked but not yet placed on a backend.
     *
     * @param file where it was read from, for messages
     * @param model the model it describes: architecture, weights and buffers, normalization and class names
     * @param metadata every metadata entry
     */
    public record Contents(Path file, ModelDescription model, Map<String, String> metadata) {
    }

    private ModelFile() {
    }

    /** One line for a file without checksums: it loads, but damage to it cannot be detected. */
    private static void uncheckedNotice(Path file) {
        LOG.log(System.Logger.Level.WARNING, "{0}: the model file has no checksums (written by another tool or an"
                + " older Receptive), so damage to its weights cannot be detected; saving it again adds them", file);
    }

    /**
     * Saves the model's architecture, parameters, buffers and {@link Model#info()}, atomically (a
     * crash leaves the previous file, or none).
     *
     * @param file the file to write, replacing one that is there
     * @param model the model, left as it is
     * @throws IllegalStateException when a layer's type is not registered (the file could not be loaded)
     * @throws IOException when the file cannot be written
     */
    public static void save(Path file, Model model) throws IOException {
        save(file, model, Map.of());
    }

    /**
     * As {@link #save(Path, Model)}, with extra string metadata (keys must not be the file's own).
     *
     * @param file the file to write, replacing one that is there
     * @param model the model, left as it is
     * @param extra metadata to add, e.g. the training run's settings
     * @throws IllegalArgumentException when an extra key is one the format reserves
     * @throws IllegalStateException when a layer's type is not registered
     * @throws IOException when the file cannot be written
     */
    public static void save(Path file, Model model, Map<String, String> extra) throws IOException {
        save(file, model.describe(), extra);
    }

    /**
     * Saves a model description that holds weights, with extra string metadata, atomically.
     *
     * @param file the file to write, replacing one that is there
     * @param model the description; its weights are written (a description without weights is refused)
     * @param extra metadata to add (keys must not be the file's own)
     * @throws IllegalArgumentException when the description holds no weights or an extra key is reserved
     * @throws IllegalStateException when a layer's type is not registered
     * @throws IOException when the file cannot be written
     */
    public static void save(Path file, ModelDescription model, Map<String, String> extra) throws IOException {
        if (!model.hasState()) {
            throw new IllegalArgumentException("ModelFile.save: the description holds no weights (they would be drawn"
                    + " from the seed); place it on a backend first");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put(VERSION, FORMAT_VERSION);
        metadata.put(ARCHITECTURE, model.architecture());
        ModelInfo info = model.info();
        if (info.hasNormalization()) {
            metadata.put(NORMALIZATION, String.format(Locale.ROOT, "%s,%s", info.normalization().mean(),
                    info.normalization().std()));
        }
        if (!info.classNames().isEmpty()) {
            metadata.put(CLASSES, new Gson().toJson(info.classNames()));
        }
        for (Map.Entry<String, String> e : extra.entrySet()) {
            if (metadata.containsKey(e.getKey()) || e.getKey().equals(NORMALIZATION) || e.getKey().equals(CLASSES)) {
                throw new IllegalArgumentException("ModelFile.save: metadata key '" + e.getKey() + "' is reserved");
            }
            metadata.put(e.getKey(), e.getValue());
        }
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        model.state().forEach((name, t) -> tensors.put(name, new TensorData(t.shape().dims(), t.data())));
        Safetensors.write(file, tensors, metadata);
    }

    /**
     * Reads and checks a model file without placing anything on a backend: the architecture is
     * planned and every tensor compared with it; weights that are NaN or infinite are refused.
     *
     * @throws IOException naming the file: not safetensors, damaged, not a Receptive model file
     *     (a checkpoint is named as such), an unknown format version, a tensor that is not a whole
     *     positive shape or holds a non-finite value, an architecture that is invalid or that the
     *     tensors do not fit (one missing, unexpected or misshapen), or bad normalization or class names
     *
     * @param file a model file
     * @return its checked contents, on the host
     */
    public static Contents read(Path file) throws IOException {
        return read(file, false);
    }

    /**
     * As {@link #read(Path)}; with {@code keepNonFinite}, NaN and infinite weights are loaded as they are.
     *
     * @param file a model file
     * @param keepNonFinite true to inspect a broken model's weights rather than refuse them
     * @return its checked contents, on the host
     * @throws IOException naming the file and what is wrong, as {@link #read(Path)}
     */
    public static Contents read(Path file, boolean keepNonFinite) throws IOException {
        Safetensors.Loaded loaded = Safetensors.read(file);
        Map<String, String> metadata = loaded.metadata();
        String architecture = metadata.get(ARCHITECTURE);
        if (!loaded.checksummed() && architecture != null) {
            uncheckedNotice(file);
        }
        if (architecture == null) {
            String what = metadata.containsKey("receptive.checkpoint")
                    ? "a training checkpoint, not a model file: the model file is saved beside it at the end of"
                            + " training, or resume training from it"
                    : "not a Receptive model file: its safetensors metadata has no '" + ARCHITECTURE + "' entry";
            throw new IOException(file + ": " + what);
        }
        String version = metadata.get(VERSION);
        if (version == null) {
            // List.of(...).contains(null) throws: found by fuzzing a file whose version key was misspelt.
            throw new IOException(file + ": the metadata has no '" + VERSION + "' entry (this build reads model format "
                    + String.join(" and ", READABLE) + ")");
        }
        if (!READABLE.contains(version)) {
            throw new IOException(file + ": model format version " + version + " is not supported (this build reads "
                    + String.join(" and ", READABLE) + ")");
        }
        Map<String, HostTensor> state = new LinkedHashMap<>();
        for (Map.Entry<String, TensorData> e : loaded.tensors().entrySet()) {
            int[] dims = e.getValue().shape();
            if (dims.length == 0 || Arrays.stream(dims).anyMatch(d -> d <= 0)) {
                throw new IOException(file + ": tensor '" + e.getKey() + "' has shape " + Arrays.toString(dims)
                        + "; parameters have positive dimensions");
            }
            float[] data = e.getValue().data();
            if (!keepNonFinite) {
                for (int i = 0; i < data.length; i++) {
                    if (!Float.isFinite(data[i])) {
                        throw new IOException(file + ": tensor '" + e.getKey() + "' holds " + data[i] + " at element " + i
                                + "; a model with non-finite weights predicts nothing useful (load it with"
                                + " keepNonFinite to inspect it)");
                    }
                }
            }
            state.put(e.getKey(), new HostTensor(Shape.of(dims), data));
        }
        ModelInfo info = new ModelInfo(normalization(file, metadata.get(NORMALIZATION)),
                classNames(file, metadata.get(CLASSES)));
        ModelDescription model;
        try {
            model = ModelDescription.of(architecture, state, info);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        return new Contents(file, model, metadata);
    }

    /**
     * Builds the model a file describes on {@code backend} with its weights, buffers and info.
     * The architecture and every tensor's name and shape are checked before anything is allocated.
     *
     * @param file a model file
     * @param backend where the tensors go
     * @return the model; the caller owns it and closes it
     * @throws IOException when the file cannot be read or does not describe a valid model (see {@link #read})
     * @throws ModelTooLargeException when the model does not fit the backend's free memory
     */
    public static Model load(Path file, Backend backend) throws IOException {
        return build(read(file), backend);
    }

    /**
     * Builds the model of already read contents on {@code backend}; see {@link #load}.
     *
     * @param contents what {@link #read} returned
     * @param backend where the tensors go
     * @return the model; the caller owns it and closes it
     * @throws ModelTooLargeException naming the file when the model does not fit the backend's free memory
     */
    public static Model build(Contents contents, Backend backend) {
        try {
            return contents.model().place(backend);
        } catch (ModelTooLargeException e) {
            throw new ModelTooLargeException(contents.file() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads a file's weights, buffers and info into an existing model. The architecture (input
     * shape and nodes; not the seed or the init, which only decide the weights the file replaces)
     * and every tensor's name and shape are checked first, so on a mismatch the model is left as
     * it was.
     *
     * @param file a model file
     * @param model the model to overwrite; it must not be running passes meanwhile
     * @throws IOException when the file cannot be read (see {@link #read})
     * @throws IllegalArgumentException naming the file and the first node or tensor that differs,
     *     with the expected and the actual value
     */
    public static void loadInto(Path file, Model model) throws IOException {
        Contents contents = read(file);
        checkArchitecture(contents, model);
        try {
            model.loadStateDict(contents.model().state());
            model.setInfo(contents.model().info());
        } catch (IllegalArgumentException e) {
            String why = e.getMessage().startsWith("loadStateDict: ") ? e.getMessage().substring(15) : e.getMessage();
            throw new IllegalArgumentException(contents.file() + ": " + why, e);
        }
    }

    private static void checkArchitecture(Contents contents, Model model) {
        JsonObject expected = parse(model.architecture(), contents.file());
        JsonObject actual = parse(contents.model().architecture(), contents.file());
        if (!expected.get("input").equals(actual.get("input"))) {
            throw new IllegalArgumentException(contents.file() + ": the model takes input " + expected.get("input")
                    + " but the file's takes " + actual.get("input"));
        }
        if (expected.has("output") != actual.has("output")
                || (expected.has("output") && !expected.get("output").equals(actual.get("output")))) {
            throw new IllegalArgumentException(contents.file() + ": the model's output is " + expected.get("output")
                    + " but the file's is " + actual.get("output"));
        }
        List<JsonElement> want = expected.getAsJsonArray("layers").asList();
        List<JsonElement> got = actual.get("layers") instanceof JsonArray a ? a.asList() : new ArrayList<>();
        for (int i = 0; i < Math.max(want.size(), got.size()); i++) {
            JsonElement w = i < want.size() ? withoutInit(want.get(i)) : null;
            JsonElement g = i < got.size() ? withoutInit(got.get(i)) : null;
            if (w == null || !w.equals(g)) {
                throw new IllegalArgumentException(contents.file() + ": layer " + i + " differs: the model has "
                        + (w == null ? "no such layer" : w) + " but the file has " + (g == null ? "no such layer" : g));
            }
        }
    }

    private static JsonElement withoutInit(JsonElement layer) {
        if (layer instanceof JsonObject o && o.has("init")) {
            JsonObject copy = o.deepCopy();
            copy.remove("init");
            return copy;
        }
        return layer;
    }

    private static JsonObject parse(String json, Path file) {
        try {
            JsonElement e = JsonParser.parseString(json);
            if (e instanceof JsonObject o && o.has("input") && o.get("layers") instanceof JsonArray) {
                return o;
            }
        } catch (JsonParseException e) {
            // reported below with the file name
        }
        throw new IllegalArgumentException(file + ": the architecture is not a JSON object with input and layers");
    }

    /** "mean,std" as written by {@link #save}, or null when absent. */
    private static Normalization normalization(Path file, String value) throws IOException {
        if (value == null) {
            return null;
        }
        String[] parts = value.split(",", -1);
        try {
            if (parts.length == 2) {
                double mean = Double.parseDouble(parts[0].trim());
                double std = Double.parseDouble(parts[1].trim());
                if (Double.isFinite(mean) && Double.isFinite(std) && std >= MIN_STD) {
                    return new Normalization(mean, std);
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IOException(file + ": metadata " + NORMALIZATION + " is '" + value + "', not 'mean,std' with a finite"
                + " mean and a standard deviation of at least " + MIN_STD);
    }

    /** A JSON array of class names, or empty when absent. */
    private static List<String> classNames(Path file, String value) throws IOException {
        if (value == null) {
            return List.of();
        }
        try {
            String[] names = new Gson().fromJson(value, String[].class);
            if (names != null) {
                new ModelInfo(null, Arrays.asList(names));
                return Arrays.asList(names);
            }
        } catch (JsonParseException | IllegalArgumentException | NullPointerException e) {
            // reported below
        }
        throw new IOException(file + ": metadata " + CLASSES + " is not a JSON array of non-empty names without"
                + " control characters");
    }
}
