package dev.receptive.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.receptive.backend.Backend;
import dev.receptive.data.Normalization;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Dropout;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.init.Init;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import dev.receptive.testing.Run;
import dev.receptive.testing.TestBackends;
import dev.receptive.zoo.Zoo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model files: round trips, refusals that change nothing, and the bytes against the safetensors spec. */
class ModelFileTest {
    private final Backend backend = TestBackends.cpu();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    private static Sequential.Builder small(long seed, int filters) {
        return Sequential.builder().input(1, 8, 8)
                .add(Conv2d.builder().filters(filters).kernel(3).padding(1).build()).add(new ReLU())
                .add(new MaxPool2d(2)).add(new Flatten()).add(new Dropout(0.25))
                .add(Dense.builder().units(5).build()).seed(seed);
    }

    private float[] predict(Model model, float[] x) {
        try (Tensor in = backend.upload(x, Shape.of(3, 1, 8, 8))) {
            return Run.eval(model, in);
        }
    }

    @Test
    void saveThenLoadGivesIdenticalPredictions() throws IOException {
        float[] x = new Rand(1).uniform(3 * 64, -1, 1);
        Path file = dir.resolve("model.safetensors");
        try (Model model = small(7, 4).build(backend)) {
            perturbBiases(model); // biases start at zero; make them matter
            float[] expected = predict(model, x);
            ModelFile.save(file, model, Map.of("note", "kept"));
            try (Model loaded = ModelFile.load(file, backend)) {
                assertEquals(model.architecture(), loaded.architecture());
                // Same weights and same ops: the outputs are equal bit for bit, not merely close.
                assertArrayEquals(expected, predict(loaded, x));
            }
            assertEquals("kept", ModelFile.read(file).metadata().get("note"));
            try (Model other = Sequential.builder().input(1, 8, 8)
                    .add(Conv2d.builder().filters(4).kernel(3).padding(1).init(Init.xavier()).build()).add(new ReLU())
                    .add(new MaxPool2d(2)).add(new Flatten()).add(new Dropout(0.25))
                    .add(Dense.builder().units(5).build()).seed(8).build(backend)) {
                ModelFile.loadInto(file, other); // seed and init may differ: the weights are replaced
                assertArrayEquals(expected, predict(other, x));
            }
        }
    }

    private void perturbBiases(Model model) {
        Map<String, HostTensor> state = model.stateDict();
        state.replaceAll((name, t) -> name.endsWith("bias")
                ? new HostTensor(t.shape(), new Rand(name.hashCode()).uniform(t.shape().size(), -1, 1)) : t);
        model.loadStateDict(state);
    }

    @Test
    void fileOfAnotherArchitectureIsRefusedAndTheModelIsUnchanged() throws IOException {
        Path file = dir.resolve("four.safetensors");
        try (Model four = small(1, 4).build(backend); Model six = small(1, 6).build(backend)) {
            ModelFile.save(file, four);
            Map<String, HostTensor> before = six.stateDict();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFile.loadInto(file, six));
            assertTrue(e.getMessage().startsWith(file + ": layer 0 differs: the model has {\"type\":\"Conv2d\",\"filters\":6"),
                    e.getMessage());
            before.forEach((name, t) -> assertArrayEquals(t.data(), six.stateDict().get(name).data(), name));
        }
    }

    @Test
    void tensorOfTheWrongShapeIsRefusedNamingFileTensorAndShapes() throws IOException {
        Path file = dir.resolve("bad.safetensors");
        try (Model model = small(1, 4).build(backend)) {
            Map<String, TensorData> tensors = new LinkedHashMap<>();
            model.stateDict().forEach((name, t) -> tensors.put(name, new TensorData(t.shape().dims(), t.data())));
            tensors.put("5.weight", new TensorData(new int[] {5, 63}, new float[5 * 63]));
            Safetensors.write(file, tensors, Map.of(ModelFile.ARCHITECTURE, model.architecture(),
                    ModelFile.VERSION, ModelFile.FORMAT_VERSION));
            Map<String, HostTensor> before = model.stateDict();

            // The file's tensors do not fit its own architecture: a damaged file, refused when read.
            IOException e = assertThrows(IOException.class, () -> ModelFile.loadInto(file, model));
            assertEquals(file + ": tensor '5.weight' has shape (5, 63) but the model expects (5, 64)", e.getMessage());
            before.forEach((name, t) -> assertArrayEquals(t.data(), model.stateDict().get(name).data(), name));
            e = assertThrows(IOException.class, () -> ModelFile.load(file, backend));
            assertEquals(file + ": tensor '5.weight' has shape (5, 63) but the model expects (5, 64)", e.getMessage());

            tensors.remove("5.weight");
            Safetensors.write(file, tensors, Map.of(ModelFile.ARCHITECTURE, model.architecture(),
                    ModelFile.VERSION, ModelFile.FORMAT_VERSION));
            e = assertThrows(IOException.class, () -> ModelFile.loadInto(file, model));
            assertEquals(file + ": tensor '5.weight' is missing (expected shape (5, 64))", e.getMessage());
        }
    }

    @Test
    void aMissingOrUnknownFormatVersionIsNamed() throws IOException {
        // Fuzzing found the missing key: the version check threw a NullPointerException.
        Path file = dir.resolve("versions.safetensors");
        try (Model model = small(1, 4).build(backend)) {
            Map<String, TensorData> tensors = new LinkedHashMap<>();
            model.stateDict().forEach((name, t) -> tensors.put(name, new TensorData(t.shape().dims(), t.data())));
            Safetensors.write(file, tensors, Map.of(ModelFile.ARCHITECTURE, model.architecture(),
                    "recpetive.format_version", ModelFile.FORMAT_VERSION));
            IOException e = assertThrows(IOException.class, () -> ModelFile.read(file));
            assertEquals(file + ": the metadata has no '" + ModelFile.VERSION + "' entry (this build reads model format 1"
                    + " and 2)", e.getMessage());
            Safetensors.write(file, tensors, Map.of(ModelFile.ARCHITECTURE, model.architecture(), ModelFile.VERSION, "3"));
            e = assertThrows(IOException.class, () -> ModelFile.read(file));
            assertTrue(e.getMessage().startsWith(file + ": model format version 3 is not supported"), e.getMessage());
        }
    }

    @Test
    void safetensorsWithoutArchitectureIsNotAModelFile() throws IOException {
        Path file = dir.resolve("plain.safetensors");
        Safetensors.write(file, Map.of("w", new TensorData(new int[] {1}, new float[] {1})), Map.of());
        IOException e = assertThrows(IOException.class, () -> ModelFile.read(file));
        assertEquals(file + ": not a Receptive model file: its safetensors metadata has no 'receptive.architecture' entry",
                e.getMessage());
    }

    /**
     * The seed network's file read by hand, following the safetensors spec rather than our
     * reader: u64 little-endian header length; a JSON header padded with spaces to 8 bytes; F32
     * tensors with PyTorch's names and shapes, tiling the data in order; then exactly the data.
     */
    @Test
    void seedNetFileFollowsTheSafetensorsSpecWithPytorchNamesAndShapes() throws IOException {
        Path file = dir.resolve("seed.safetensors");
        Map<String, HostTensor> state;
        try (Model model = Zoo.seedNet().seed(42).build(backend)) {
            ModelFile.save(file, model);
            state = model.stateDict();
        }
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header length is a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        JsonObject json = JsonParser.parseString(header).getAsJsonObject();
        assertEquals(header.strip(), header.substring(0, header.strip().length()), "padding is trailing spaces");

        Map<String, int[]> expected = new LinkedHashMap<>();
        expected.put("0.weight", new int[] {32, 1, 5, 5});
        expected.put("0.bias", new int[] {32});
        expected.put("3.weight", new int[] {64, 32, 5, 5});
        expected.put("3.bias", new int[] {64});
        expected.put("7.weight", new int[] {1024, 3136});
        expected.put("7.bias", new int[] {1024});
        expected.put("10.weight", new int[] {10, 1024});
        expected.put("10.bias", new int[] {10});
        List<String> names = new ArrayList<>(json.keySet());
        names.remove("__metadata__");
        assertEquals(List.copyOf(expected.keySet()), names);

        long offset = 0;
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            JsonObject t = json.getAsJsonObject(e.getKey());
            assertEquals("F32", t.get("dtype").getAsString(), e.getKey());
            assertArrayEquals(e.getValue(), ints(t.getAsJsonArray("shape")), e.getKey());
            long[] offsets = {t.getAsJsonArray("data_offsets").get(0).getAsLong(),
                t.getAsJsonArray("data_offsets").get(1).getAsLong()};
            long count = 1;
            for (int d : e.getValue()) {
                count *= d;
            }
            assertArrayEquals(new long[] {offset, offset + 4 * count}, offsets, e.getKey());
            float[] values = new float[(int) count];
            ByteBuffer.wrap(bytes, (int) (8 + n + offset), (int) (4 * count)).order(ByteOrder.LITTLE_ENDIAN)
                    .asFloatBuffer().get(values);
            assertArrayEquals(state.get(e.getKey()).data(), values, e.getKey() + " data");
            offset += 4 * count;
        }
        assertEquals(8 + n + offset, bytes.length, "nothing after the last tensor");

        JsonObject meta = json.getAsJsonObject("__metadata__");
        assertEquals("pt", meta.get("format").getAsString());
        assertEquals("2", meta.get(ModelFile.VERSION).getAsString());
        JsonObject architecture = JsonParser.parseString(meta.get(ModelFile.ARCHITECTURE).getAsString()).getAsJsonObject();
        assertEquals(11, architecture.getAsJsonArray("layers").size());
    }

    private static int[] ints(JsonArray a) {
        return a.asList().stream().mapToInt(JsonElement::getAsInt).toArray();
    }

    @Test
    void normalizationAndClassNamesTravelWithTheModel() throws IOException {
        Path file = dir.resolve("info.safetensors");
        List<String> names = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat");
        try (Model model = small(3, 2).build(backend)) {
            model.setInfo(new ModelInfo(Normalization.FASHION_MNIST, names));
            ModelFile.save(file, model);
        }
        ModelFile.Contents c = ModelFile.read(file);
        assertEquals(Normalization.FASHION_MNIST, c.model().info().normalization());
        assertEquals(names, c.model().info().classNames());
        try (Model loaded = ModelFile.load(file, backend)) {
            assertEquals(c.model().info(), loaded.info());
        }
    }

    /** A model file whose one tensor has a value at index 3, written with the given metadata. */
    private Path withValue(String name, float value, Map<String, String> extraMeta) throws IOException {
        Path file = dir.resolve(name);
        try (Model model = small(3, 2).build(backend)) {
            Map<String, TensorData> tensors = new LinkedHashMap<>();
            model.stateDict().forEach((n, t) -> tensors.put(n, new TensorData(t.shape().dims(), t.data())));
            tensors.get("0.weight").data()[3] = value;
            Map<String, String> meta = new LinkedHashMap<>(Map.of(ModelFile.ARCHITECTURE, model.architecture(),
                    ModelFile.VERSION, ModelFile.FORMAT_VERSION));
            meta.putAll(extraMeta);
            Safetensors.write(file, tensors, meta);
        }
        return file;
    }

    @Test
    void nonFiniteWeightsAndBrokenMetadataAreRefused() throws IOException {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
            Path file = withValue("bad.safetensors", bad, Map.of());
            IOException e = assertThrows(IOException.class, () -> ModelFile.load(file, backend));
            assertEquals(file + ": tensor '0.weight' holds " + bad + " at element 3; a model with non-finite weights"
                    + " predicts nothing useful (load it with keepNonFinite to inspect it)", e.getMessage());
            assertTrue(Float.isNaN(ModelFile.read(file, true).model().state().get("0.weight").data()[3]) || bad > 0);
        }
        for (String norm : new String[] {"0.1,1e-300", "0.1,NaN", "x,1", "0.1", "0.1,0.3,0.5"}) {
            Path file = withValue("norm.safetensors", 0.5f, Map.of(ModelFile.NORMALIZATION, norm));
            IOException e = assertThrows(IOException.class, () -> ModelFile.read(file), norm);
            assertTrue(e.getMessage().contains(ModelFile.NORMALIZATION) && e.getMessage().contains(norm), e.getMessage());
        }
        for (String classes : new String[] {"[\"a\tb\"]", "[\"\"]", "{}", "[\"line\\nbreak\"]"}) {
            Path file = withValue("classes.safetensors", 0.5f, Map.of(ModelFile.CLASSES, classes));
            IOException e = assertThrows(IOException.class, () -> ModelFile.read(file), classes);
            assertTrue(e.getMessage().contains(ModelFile.CLASSES), e.getMessage());
        }
    }

    @Test
    void aHugeLayerInATinyFileIsRefusedBeforeAnythingIsAllocated() throws IOException {
        // 2·10⁶ units × 784 inputs would be 6.3 GB of weights (more than the test heap) and a
        // random init; 2·10⁸ units do not even have a shape. The file holds none of them.
        for (int units : new int[] {2_000_000, 200_000_000}) {
            String architecture = "{\"input\":[1,28,28],\"seed\":1,\"layers\":[{\"type\":\"Flatten\"},"
                    + "{\"type\":\"Dense\",\"units\":" + units + ",\"bias\":true,\"init\":\"he\"}]}";
            Path file = dir.resolve("huge.safetensors");
            Safetensors.write(file, Map.of("1.bias", new TensorData(new int[] {2}, new float[2])),
                    Map.of(ModelFile.ARCHITECTURE, architecture, ModelFile.VERSION, ModelFile.FORMAT_VERSION));
            long start = System.nanoTime();
            IOException e = assertThrows(IOException.class, () -> ModelFile.load(file, backend));
            assertTrue(e.getMessage().equals(file + ": tensor '1.weight' is missing (expected shape (" + units + ", 784))")
                    || e.getMessage().equals(file + ": architecture: shape [" + units + ", 784] has more than 2^31 elements"),
                    e.getMessage());
            assertTrue(System.nanoTime() - start < 5_000_000_000L, "refused at once, not after allocating");
        }
    }

    @Test
    void aCheckpointIsNamedAsSuch() throws IOException {
        Path file = dir.resolve("checkpoint.safetensors");
        Safetensors.write(file, Map.of("model/0.weight", new TensorData(new int[] {1}, new float[1])),
                Map.of("receptive.checkpoint", "2"));
        IOException e = assertThrows(IOException.class, () -> ModelFile.read(file));
        assertTrue(e.getMessage().contains("a training checkpoint, not a model file"), e.getMessage());
    }
}
