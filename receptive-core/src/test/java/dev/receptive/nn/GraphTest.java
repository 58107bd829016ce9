package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.receptive.backend.Backend;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.loss.Loss;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.ModelGradients;
import dev.receptive.testing.Rand;
import dev.receptive.testing.Run;
import dev.receptive.testing.TestBackends;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Graph models: residual and concatenating networks, their gradients, files and errors. */
class GraphTest {
    private final Backend backend = TestBackends.cpu(1);

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    /** conv → conv → add with the input → ReLU: a residual block, as in a ResNet's basic block. */
    private Model residual(long seed, String output) {
        Graph.Builder b = Graph.builder().input(2, 5, 5)
                .add("conv1", Conv2d.builder().filters(2).kernel(3).padding(1).build(), Model.INPUT)
                .add("conv2", Conv2d.builder().filters(2).kernel(3).padding(1).build(), "conv1")
                .add("sum", new Add(), "conv2", Model.INPUT);
        if (output.equals("relu")) {
            b.add("relu", new ReLU(), "sum");
        }
        return b.output(output).seed(seed).build(backend);
    }

    @Test
    void residualBlockPassesFiniteDifferences() {
        Rand rand = new Rand(8);
        try (Model model = residual(4, "relu");
                Loss loss = Loss.meanSquaredError();
                Tensor target = backend.upload(rand.uniform(2 * 50, 0, 1), Shape.of(2, 2, 5, 5))) {
            assertEquals(List.of("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"),
                    model.parameters().stream().map(Parameter::name).toList());
            for (Parameter p : model.parameters()) {
                backend.upload(p.value(), rand.uniform(p.shape().size(), -0.5, 0.5));
            }
            // Draw inputs until no ReLU input lies within reach of a perturbation (|z| > 1.5h
            // against a change of at most h per weight of an input in [−1, 1], two layers deep).
            Tensor x = null;
            for (long seed = 1; x == null; seed++) {
                Tensor candidate = backend.upload(new Rand(seed).uniform(100, -1, 1), Shape.of(2, 2, 5, 5));
                if (clearOfZero(preActivation(model, candidate), 3 * ModelGradients.H)) {
                    x = candidate;
                } else {
                    candidate.close();
                }
            }
            try (Tensor input = x) {
                ModelGradients.checkEveryParameter(model, loss, input, target);
            }
        }
    }

    /** The sum node's output: the same weights in the graph that ends before the ReLU. */
    private float[] preActivation(Model model, Tensor x) {
        try (Model sum = residual(4, "sum")) {
            sum.loadStateDict(model.stateDict());
            return Run.eval(sum, x);
        }
    }

    private static boolean clearOfZero(float[] z, double margin) {
        for (float v : z) {
            if (Math.abs(v) <= margin) {
                return false;
            }
        }
        return true;
    }

    @Test
    void concatAndANodeReadTwicePassFiniteDifferences() {
        Rand rand = new Rand(9);
        try (Model model = Graph.builder().input(1, 4, 4)
                .add("a", Conv2d.builder().filters(2).kernel(3).padding(1).build(), Model.INPUT)
                .add("b", Conv2d.builder().filters(3).kernel(1).build(), Model.INPUT)
                .add("cat", new Concat(), "a", "b")
                .add("t", new Tanh(), "cat")
                .add("twice", new Add(), "t", "t", "cat")
                .add("flat", new Flatten(), "twice")
                .add("head", Dense.builder().units(3).build(), "flat")
                .add("s", new Sigmoid(), "a")
                .add("flat2", new Flatten(), "s")
                .add("head2", Dense.builder().units(3).build(), "flat2")
                .add("out", new Add(), "head", "head2")
                .output("out").seed(5).build(backend);
                Loss loss = Loss.meanSquaredError();
                Tensor x = backend.upload(rand.uniform(2 * 16, -1, 1), Shape.of(2, 1, 4, 4));
                Tensor target = backend.upload(rand.uniform(6, -1, 1), Shape.of(2, 3))) {
            assertEquals(Shape.of(5, 4, 4), model.nodes().get(2).outputShape());
            for (Parameter p : model.parameters()) {
                if (p.name().endsWith("bias")) {
                    backend.upload(p.value(), rand.uniform(p.shape().size(), -0.5, 0.5));
                }
            }
            ModelGradients.checkEveryParameter(model, loss, x, target);
        }
    }

    @Test
    void architectureJsonRoundTripsAGraphAndItsOutputs() throws IOException {
        Rand rand = new Rand(10);
        try (Model model = residual(6, "relu");
                Tensor x = backend.upload(rand.uniform(3 * 50, -1, 1), Shape.of(3, 2, 5, 5))) {
            for (Parameter p : model.parameters()) {
                backend.upload(p.value(), rand.uniform(p.shape().size(), -0.5, 0.5));
            }
            JsonObject json = JsonParser.parseString(model.architecture()).getAsJsonObject();
            assertEquals("relu", json.get("output").getAsString());
            assertEquals("{\"name\":\"sum\",\"inputs\":[\"conv2\",\"input\"],\"type\":\"Add\"}",
                    json.getAsJsonArray("layers").get(2).toString());
            assertFalse(model.isSequential());
            try (Model again = Model.fromArchitecture(model.architecture(), backend)) {
                assertEquals(model.architecture(), again.architecture());
            }
            Path file = dir.resolve("residual.safetensors");
            model.setInfo(new ModelInfo(null, List.of("a", "b")));
            ModelFile.save(file, model);
            try (Model loaded = ModelFile.load(file, backend)) {
                assertArrayEquals(Run.eval(model, x), Run.eval(loaded, x), "same weights, same ops: equal bit for bit");
                assertEquals(model.architecture(), loaded.architecture());
            }
            assertTrue(model.summary().contains("conv2, input"), model.summary());
        }
    }

    @Test
    void aSequentialIsTheGraphOfItsChain() {
        try (Model chain = Sequential.builder().input(3).add(Dense.builder().units(2).build()).add(new ReLU()).seed(1)
                .build(backend);
                Model graph = Graph.builder().input(3).add("0", Dense.builder().units(2).build(), Model.INPUT)
                        .add("1", new ReLU(), "0").output("1").seed(1).build(backend)) {
            assertTrue(chain.isSequential() && graph.isSequential());
            assertEquals(chain.architecture(), graph.architecture());
            assertEquals(chain.stateDict().keySet(), graph.stateDict().keySet());
        }
    }

    private void refused(Graph.Builder b, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.build(backend).close());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void badGraphsAreRefusedNamingTheNodeAndShapes() {
        refused(Graph.builder().input(2, 5, 5)
                .add("conv", Conv2d.builder().filters(3).kernel(3).padding(1).build(), Model.INPUT)
                .add("sum", new Add(), "conv", Model.INPUT).output("sum"),
                "node sum (Add) with inputs conv (3, 5, 5) and input (2, 5, 5)", "cannot be added");
        refused(Graph.builder().input(2, 5, 5)
                .add("a", new ReLU(), Model.INPUT)
                .add("cat", new Concat(), "a", "flat").add("flat", new Flatten(), Model.INPUT).output("cat"),
                "node cat (Concat)", "(2, 5, 5)", "(50,)", "cannot be concatenated");
        refused(Graph.builder().input(4).add("a", new ReLU(), "nowhere").output("a"), "node a reads 'nowhere'");
        refused(Graph.builder().input(4).add("a", new ReLU(), "b").add("b", new ReLU(), "a").output("b"),
                "cycle", "b -> a -> b (each reads the next)");
        refused(Graph.builder().input(4).add("a", new ReLU(), Model.INPUT).add("lost", new Tanh(), "a").output("a"),
                "node lost (Tanh) does not lead to the output a");
        refused(Graph.builder().input(4).add("a", new ReLU(), Model.INPUT).output("z"), "output must name a node");
        refused(Graph.builder().input(1, 3, 3).add("c", Conv2d.builder().filters(1).kernel(5).build(), Model.INPUT)
                .output("c"), "layer c (Conv2d) with input (1, 3, 3)", "(3 + 2*0 - 1*(5 - 1) - 1) / 1 + 1 = -1");
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class, () -> Graph.builder().input(4)
                .add("a", new ReLU(), Model.INPUT).add("a", new Tanh(), Model.INPUT));
        assertTrue(dup.getMessage().contains("two nodes are named 'a'"), dup.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Graph.builder().add("x y", new ReLU(), Model.INPUT));
        assertThrows(IllegalArgumentException.class, () -> Graph.builder().add(Model.INPUT, new ReLU(), Model.INPUT));
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class,
                () -> Graph.builder().add("m", new Add(), "a"));
        assertTrue(one.getMessage().contains("at least two inputs"), one.getMessage());
    }

    @Test
    void graphJsonIsCheckedLikeAChain() {
        String good;
        try (Model model = residual(6, "relu")) {
            good = model.architecture();
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Model.fromArchitecture(good.replace("\"inputs\":[\"conv2\",\"input\"]", "\"inputs\":[\"conv2\"]"),
                        backend));
        assertTrue(e.getMessage().contains("layers[2] (Add)") && e.getMessage().contains("at least two"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Model.fromArchitecture(good.replace("\"output\":\"relu\",", ""), backend));
        assertTrue(e.getMessage().contains("only allowed in a graph"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Model.fromArchitecture(good.replace(
                "\"inputs\":[\"conv1\"]", "\"inputs\":[\"relu\"]"), backend));
        assertTrue(e.getMessage().contains("cycle"), e.getMessage());
        Map<String, HostTensor> none = Map.of();
        e = assertThrows(IllegalArgumentException.class, () -> Model.fromArchitecture(good, backend, none));
        assertEquals("tensor 'conv1.weight' is missing (expected shape (2, 2, 3, 3))", e.getMessage());
    }

    /**
     * Ordering is iterative: a chain of 100,000 nodes, declared last node first so that every node
     * waits for its input, plans, runs and round-trips through architecture JSON without
     * exhausting the stack; a cycle through all of them is named.
     */
    @Test
    void aHundredThousandChainedNodesPlanWithoutRecursion() {
        int n = 100_000;
        Graph.Builder g = Graph.builder().input(2);
        for (int i = n - 1; i >= 0; i--) {
            g.add("n" + i, i % 2 == 0 ? new ReLU() : new Tanh(), i == 0 ? Model.INPUT : "n" + (i - 1));
        }
        String json;
        try (Model model = g.output("n" + (n - 1)).build(backend);
                Tensor x = backend.upload(new float[] {-1, 2}, Shape.of(1, 2))) {
            assertEquals(n, model.nodes().size());
            assertEquals("n0", model.nodes().get(0).name());
            assertEquals("n" + (n - 1), model.nodes().get(n - 1).name());
            float[] y = Run.eval(model, x);
            // relu(-1) = 0 stays 0; 2 → relu → tanh → relu → … converges to tanh's fixed point 0 slowly but stays > 0.
            assertEquals(0f, y[0]);
            assertTrue(y[1] > 0 && y[1] < 1, "y[1] = " + y[1]);
            json = model.architecture();
        }
        ModelDescription d = ModelDescription.of(json);
        assertEquals(n, d.summary().lines().count() - 5);
        String cycle = json.replace("\"name\":\"n0\",\"inputs\":[\"input\"]",
                "\"name\":\"n0\",\"inputs\":[\"n" + (n - 1) + "\"]");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelDescription.of(cycle));
        assertTrue(e.getMessage().contains("the nodes form a cycle: n99999 -> n99998")
                && e.getMessage().contains("… (100000 nodes) …") && e.getMessage().endsWith("n1 -> n0 -> n99999 (each"
                + " reads the next)"), e.getMessage());
    }
}
