package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.receptive.testing.TestBackends;
import dev.receptive.zoo.Zoo;
import dev.receptive.backend.Backend;
import dev.receptive.nn.init.Init;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.Rand;
import dev.receptive.testing.Run;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ArchitectureTest {
    private final Backend backend = TestBackends.cpu(1);

    @AfterEach
    void close() {
        backend.close();
    }

    /** Every layer type, with settings away from the defaults. */
    private Model everyLayer(long seed) {
        return Sequential.builder().input(3, 11, 10)
                .add(Conv2d.builder().filters(4).kernel(3, 2).stride(1, 2).padding(1, 0).dilation(2, 1)
                        .bias(false).init(Init.xavier()).build())
                .add(new Tanh())
                .add(new MaxPool2d(new dev.receptive.backend.Pool2dParams(2, 3, 2, 1, 1, 0)))
                .add(Conv2d.builder().filters(5).kernel(1).build()).add(new Sigmoid())
                .add(new AvgPool2d(3, 2, 1))
                .add(new Flatten())
                .add(Dense.builder().units(7).init(Init.xavier()).build()).add(new ReLU())
                .add(new Dropout(0.25))
                .add(Dense.builder().units(3).bias(false).build()).add(new Softmax())
                .seed(seed).build(backend);
    }

    @Test
    void roundTripRebuildsTheSameModel() {
        try (Model a = everyLayer(-1234567890123456789L);
                Model b = Model.fromArchitecture(a.architecture(), backend)) {
            assertEquals(a.architecture(), b.architecture());
            assertEquals(a.inputShape(), b.inputShape());
            assertEquals(a.outputShape(), b.outputShape());
            assertEquals(a.seed(), b.seed());
            assertEquals(a.parameters().size(), b.parameters().size());
            for (int i = 0; i < a.parameters().size(); i++) {
                Parameter pa = a.parameters().get(i);
                Parameter pb = b.parameters().get(i);
                assertEquals(pa.name(), pb.name());
                assertEquals(pa.shape(), pb.shape());
                // The seed travels with the architecture, so even the initial weights agree.
                Close.assertClose(pa.name(), pa.value().toArray(), pb.value().toArray(), 0, 0);
            }
            for (int i = 0; i < a.layers().size(); i++) {
                assertEquals(a.layers().get(i).getClass(), b.layers().get(i).getClass());
                assertEquals(a.layers().get(i).outputShape(), b.layers().get(i).outputShape());
            }
        }
    }

    @Test
    void loadingTheStateDictGivesTheSameOutputs() {
        Rand rand = new Rand(21);
        try (Model a = everyLayer(1);
                Model b = Model.fromArchitecture(a.architecture().replace("\"seed\":1,", "\"seed\":2,"),
                        backend);
                Tensor x = backend.upload(rand.uniform(2 * 3 * 11 * 10, -1, 1), Shape.of(2, 3, 11, 10))) {
            for (Parameter p : a.parameters()) {
                backend.upload(p.value(), rand.uniform(p.shape().size(), -0.5, 0.5));
            }
            float[] before = Run.eval(b, x);
            float[] expected = Run.eval(a, x);
            assertNotEquals(expected[0], before[0], "different weights before loading");
            b.loadStateDict(a.stateDict());
            Close.assertClose("outputs", expected, Run.eval(b, x), 0, 0);
            // Dropout masks depend on the seed, which the state dict does not carry.
            assertEquals(2, b.seed());
        }
    }

    @Test
    void theJsonNamesTypesAndSettings() {
        try (Model model = Zoo.seedNet().seed(42).build(backend)) {
            JsonObject root = JsonParser.parseString(model.architecture()).getAsJsonObject();
            assertEquals("[1,28,28]", root.get("input").toString());
            assertEquals(42, root.get("seed").getAsLong());
            JsonArray layers = root.getAsJsonArray("layers");
            assertEquals(11, layers.size());
            assertEquals("{\"type\":\"Conv2d\",\"filters\":32,\"kernel\":[5,5],\"stride\":[1,1],\"padding\":[2,2],"
                    + "\"dilation\":[1,1],\"bias\":true,\"init\":\"xavier\"}", layers.get(0).toString());
            assertEquals("{\"type\":\"ReLU\"}", layers.get(1).toString());
            assertEquals("{\"type\":\"MaxPool2d\",\"window\":[2,2],\"stride\":[2,2],\"padding\":[0,0]}",
                    layers.get(2).toString());
            assertEquals("{\"type\":\"Dropout\",\"p\":0.5}", layers.get(9).toString());
        }
    }

    private String seedNetWith(Consumer<JsonObject> edit) {
        try (Model model = Zoo.seedNet().seed(42).build(backend)) {
            JsonObject root = JsonParser.parseString(model.architecture()).getAsJsonObject();
            edit.accept(root);
            return root.toString();
        }
    }

    private void rejected(String json, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Model.fromArchitecture(json, backend).close());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    private static JsonObject layer(JsonObject root, int i) {
        return root.getAsJsonArray("layers").get(i).getAsJsonObject();
    }

    @Test
    void aModelLargerThanTheHeapIsRefusedBeforeAllocating() {
        // About 100 bytes of JSON declaring a dense layer whose weights alone fill the whole heap
        // (and twice that with gradients); capped so the weight tensor stays under 2^31 elements.
        long units = Math.min(2_000_000, Runtime.getRuntime().maxMemory() / 1000 / Float.BYTES + 1);
        String json = "{\"input\":[1000],\"seed\":0,\"layers\":[{\"type\":\"Dense\",\"units\":" + units
                + ",\"bias\":true,\"init\":\"xavier\"}]}";
        long before = dev.receptive.testing.Allocation.bytes();
        ModelTooLargeException e = assertThrows(ModelTooLargeException.class, () -> Model.fromArchitecture(json, backend));
        assertTrue(e.getMessage().contains("parameters need") && e.getMessage().contains("MB free")
                && e.getMessage().contains("-Xmx"), e.getMessage());
        assertTrue(dev.receptive.testing.Allocation.bytes() - before < 16 << 20, "refused before allocating");
    }

    @Test
    void badArchitecturesAreRejectedNamingTheField() {
        rejected(seedNetWith(r -> layer(r, 3).addProperty("type", "Conv3d")), "layers[3]", "'type'", "Conv3d");
        rejected(seedNetWith(r -> layer(r, 0).addProperty("kernel", "five")), "layers[0] (Conv2d)", "'kernel'");
        rejected(seedNetWith(r -> layer(r, 0).remove("filters")), "layers[0] (Conv2d)", "'filters' is missing");
        rejected(seedNetWith(r -> layer(r, 0).addProperty("filters", 2.5)), "'filters'", "integer");
        rejected(seedNetWith(r -> layer(r, 7).addProperty("init", "lecun")), "layers[7] (Dense)", "'init'", "lecun");
        rejected(seedNetWith(r -> layer(r, 1).addProperty("colour", "red")), "layers[1] (ReLU)", "unknown field 'colour'");
        rejected(seedNetWith(r -> layer(r, 9).addProperty("p", 1.5)), "layers[9] (Dropout)", "1.5");
        rejected(seedNetWith(r -> layer(r, 2).add("padding", JsonParser.parseString("[3,3]"))),
                "layers[2] (MaxPool2d)", "padding");
        rejected(seedNetWith(r -> r.remove("input")), "top level", "'input' is missing");
        rejected(seedNetWith(r -> r.addProperty("seed", "x")), "'seed'");
        rejected(seedNetWith(r -> r.addProperty("version", 2)), "unknown field 'version'");
        rejected(seedNetWith(r -> r.getAsJsonArray("layers").remove(6)), "layer 6 (Dense)", "Flatten");
        rejected("{\"input\": [1, 28", "not valid JSON");
        // Strict JSON, as the docs' PyTorch recipe (Python's json module) reads it.
        String good = seedNetWith(r -> { });
        rejected(good.replace("\"ReLU\"", "'ReLU'"), "not valid JSON");
        rejected(good + " {}", "not valid JSON");
        rejected("/* seed net */ " + good, "not valid JSON");
        rejected(good.replace("\"seed\":42", "seed:42"), "not valid JSON");
        rejected("[1, 2]", "expected a JSON object");
    }

    /**
     * The findings: a duplicated key's last value silently won (a layer of 64 filters where
     * the file also says 8), duplicate node names dropped the first node or were called a cycle,
     * and a node named like the model's input got a misleading message.
     */
    @Test
    void duplicateKeysAndNodeNamesAndTheReservedInputNameAreRefusedByName() {
        String good = seedNetWith(r -> { });
        String twice = good.replace("\"filters\":32", "\"filters\":32,\"filters\":64");
        assertTrue(!twice.equals(good));
        rejected(twice, "architecture: layers[0] names the key 'filters' twice");
        rejected(good.replace("\"seed\":42", "\"seed\":42,\"seed\":7"), "architecture: the top level names the key"
                + " 'seed' twice");
        rejected(good.replace("\"kernel\":[5,5]", "\"kernel\":[5,5],\"kernel\":[3,3]"), "layers[0]", "'kernel' twice");

        String graph = "{\"input\":[2],\"seed\":1,\"output\":\"b\",\"layers\":["
                + "{\"name\":\"a\",\"inputs\":[\"input\"],\"type\":\"ReLU\"},"
                + "{\"name\":\"b\",\"inputs\":[\"a\"],\"type\":\"Tanh\"}]}";
        Model.fromArchitecture(graph, backend).close();
        // The same name for both nodes: read as a cycle before (b reads itself); named now.
        rejected(graph.replace("\"name\":\"a\"", "\"name\":\"b\"").replace("[\"a\"]", "[\"b\"]"),
                "architecture: layers[1] and layers[0] are both named 'b'; node names must be unique");
        // A second node named like the first, both reading the input: the first was silently dropped.
        String dropped = "{\"input\":[2],\"seed\":1,\"output\":\"b\",\"layers\":["
                + "{\"name\":\"b\",\"inputs\":[\"input\"],\"type\":\"ReLU\"},"
                + "{\"name\":\"b\",\"inputs\":[\"input\"],\"type\":\"Tanh\"}]}";
        rejected(dropped, "layers[1] and layers[0] are both named 'b'");
        rejected(graph.replace("\"name\":\"a\"", "\"name\":\"input\"").replace("[\"a\"]", "[\"input\"]"),
                "layers[0] (ReLU): field 'name' is 'input', which is reserved");
        rejected(graph.replace("\"name\":\"a\"", "\"name\":\"a b\"").replace("[\"a\"]", "[\"a b\"]"),
                "field 'name' must be letters, digits and '_'");
    }
}
