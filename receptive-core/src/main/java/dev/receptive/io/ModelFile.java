package dev.receptive.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.receptive.backend.Backend;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Parameter;
import dev.receptive.nn.Sequential;
import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model file: one safetensors file whose tensors are the model's parameters, named and shaped
 * as in PyTorch ("0.weight" (K, C, R, S), "7.weight" (out, in), F32), and whose
 * {@code __metadata__} holds the architecture JSON under {@value #ARCHITECTURE}, the format
 * version under {@value #VERSION} and "format": "pt" (what PyTorch tools expect). Callers may add
 * their own string metadata, e.g. how inputs were normalized. See docs/model-format.md.
 */
public final class ModelFile {
    public static final String ARCHITECTURE = "receptive.architecture";
    public static final String VERSION = "receptive.format_version";
    public static final String FORMAT_VERSION = "1";

    /** A model file's content, read and checked but not yet placed on a backend. */
    public record Contents(Path file, String architecture, Map<String, HostTensor> weights,
            Map<String, String> metadata) {
    }

    private ModelFile() {
    }

    /** Saves the model's architecture and weights, atomically (see {@link AtomicFiles}). */
    public static void save(Path file, Sequential model) throws IOException {
        save(file, model, Map.of());
    }

    /** As {@link #save(Path, Sequential)}, with extra string metadata (keys must not be the file's own). */
    public static void save(Path file, Sequential model, Map<String, String> extra) throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put(VERSION, FORMAT_VERSION);
        metadata.put(ARCHITECTURE, model.architecture());
        for (Map.Entry<String, String> e : extra.entrySet()) {
            if (metadata.containsKey(e.getKey())) {
                throw new IllegalArgumentException("ModelFile.save: metadata key '" + e.getKey() + "' is reserved");
            }
            metadata.put(e.getKey(), e.getValue());
        }
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        model.stateDict().forEach((name, t) -> tensors.put(name, new TensorData(t.shape().dims(), t.data())));
        Safetensors.write(file, tensors, metadata);
    }

    /**
     * Reads and checks a model file without building anything.
     *
     * @throws IOException naming the file: not safetensors, damaged, not a Receptive model file,
     *     an unknown format version, or a tensor that is not a whole positive shape
     */
    public static Contents read(Path file) throws IOException {
        Safetensors.Loaded loaded = Safetensors.read(file);
        Map<String, String> metadata = loaded.metadata();
        String architecture = metadata.get(ARCHITECTURE);
        if (architecture == null) {
            throw new IOException(file + ": not a Receptive model file: its safetensors metadata has no '"
                    + ARCHITECTURE + "' entry");
        }
        String version = metadata.get(VERSION);
        if (!FORMAT_VERSION.equals(version)) {
            throw new IOException(file + ": model format version " + version + " is not supported (this build reads "
                    + FORMAT_VERSION + ")");
        }
        Map<String, HostTensor> weights = new LinkedHashMap<>();
        for (Map.Entry<String, TensorData> e : loaded.tensors().entrySet()) {
            int[] dims = e.getValue().shape();
            if (dims.length == 0 || Arrays.stream(dims).anyMatch(d -> d <= 0)) {
                throw new IOException(file + ": tensor '" + e.getKey() + "' has shape " + Arrays.toString(dims)
                        + "; parameters have positive dimensions");
            }
            weights.put(e.getKey(), new HostTensor(Shape.of(dims), e.getValue().data()));
        }
        return new Contents(file, architecture, Collections.unmodifiableMap(weights), metadata);
    }

    /**
     * Builds the model a file describes on {@code backend} and loads its weights.
     *
     * @throws IOException when the file cannot be read (see {@link #read})
     * @throws IllegalArgumentException naming the file when its architecture is invalid or a
     *     tensor is missing, unexpected or misshapen
     */
    public static Sequential load(Path file, Backend backend) throws IOException {
        return build(read(file), backend);
    }

    /** Builds the model of already read contents on {@code backend}; see {@link #load}. */
    public static Sequential build(Contents contents, Backend backend) {
        Sequential model;
        try {
            model = Sequential.fromArchitecture(contents.architecture(), backend);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(contents.file() + ": " + e.getMessage(), e);
        }
        try {
            loadWeights(contents, model);
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Loads a file's weights into an existing model. The architecture (input shape and layers;
     * not the seed or the init, which only decide the weights the file replaces) and every
     * tensor's name and shape are checked first, so on a mismatch the model is left as it was.
     *
     * @throws IllegalArgumentException naming the file and the first layer or tensor that differs,
     *     with the expected and the actual value
     */
    public static void loadInto(Path file, Sequential model) throws IOException {
        Contents contents = read(file);
        checkArchitecture(contents, model);
        loadWeights(contents, model);
    }

    private static void checkArchitecture(Contents contents, Sequential model) {
        JsonObject expected = parse(model.architecture(), contents.file());
        JsonObject actual = parse(contents.architecture(), contents.file());
        if (!expected.get("input").equals(actual.get("input"))) {
            throw new IllegalArgumentException(contents.file() + ": the model takes input " + expected.get("input")
                    + " but the file's takes " + actual.get("input"));
        }
        List<JsonElement> want = expected.getAsJsonArray("layers").asList();
        List<JsonElement> got = actual.has("layers") && actual.get("layers").isJsonArray()
                ? actual.getAsJsonArray("layers").asList() : List.of();
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
            if (e instanceof JsonObject o && o.has("input") && o.has("layers")) {
                return o;
            }
        } catch (JsonParseException e) {
            // reported below with the file name
        }
        throw new IllegalArgumentException(file + ": the architecture is not a JSON object with input and layers");
    }

    /** Checks every name and shape against the model before anything is copied. */
    private static void loadWeights(Contents contents, Sequential model) {
        Map<String, HostTensor> weights = contents.weights();
        for (Parameter p : model.parameters()) {
            HostTensor t = weights.get(p.name());
            if (t == null) {
                throw new IllegalArgumentException(contents.file() + ": tensor '" + p.name() + "' is missing (expected shape "
                        + p.shape() + ")");
            }
            if (!t.shape().equals(p.shape())) {
                throw new IllegalArgumentException(contents.file() + ": tensor '" + p.name() + "' has shape " + t.shape()
                        + " but the model expects " + p.shape());
            }
        }
        for (String name : weights.keySet()) {
            if (model.parameters().stream().noneMatch(p -> p.name().equals(name))) {
                throw new IllegalArgumentException(contents.file() + ": unexpected tensor '" + name
                        + "' (the model's parameters: " + model.parameters().stream().map(Parameter::name).toList() + ")");
            }
        }
        model.loadStateDict(weights);
    }
}
