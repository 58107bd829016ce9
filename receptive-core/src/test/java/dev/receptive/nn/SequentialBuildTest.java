package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.testing.TestBackends;
import dev.receptive.zoo.Zoo;
import dev.receptive.backend.Backend;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.Rand;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SequentialBuildTest {
    private final Backend backend = TestBackends.cpu(1);

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void seedNetShapesNamesAndParameterCount() {
        try (Model model = Zoo.seedNet().seed(42).build(backend)) {
            assertEquals(Shape.of(1, 28, 28), model.inputShape());
            assertEquals(Shape.of(10), model.outputShape());
            List<Shape> outputs = model.layers().stream().map(Layer::outputShape).toList();
            assertEquals(List.of(Shape.of(32, 28, 28), Shape.of(32, 28, 28), Shape.of(32, 14, 14),
                    Shape.of(64, 14, 14), Shape.of(64, 14, 14), Shape.of(64, 7, 7), Shape.of(3136),
                    Shape.of(1024), Shape.of(1024), Shape.of(1024), Shape.of(10)), outputs);
            // 32·1·25 + 32 + 64·32·25 + 64 + 1024·3136 + 1024 + 10·1024 + 10
            assertEquals(3_274_634L, model.parameterCount());
            assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "10.weight",
                    "10.bias"), model.parameters().stream().map(Parameter::name).toList());
            assertEquals(Shape.of(64, 32, 5, 5), model.parameters().get(2).shape());
            assertEquals(Shape.of(1024, 3136), model.parameters().get(4).shape());
        }
    }

    @Test
    void seedNetRunsATrainingStepThroughEveryOp() {
        try (Model model = Zoo.seedNet().seed(42).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build();
                Tensor x = backend.upload(new Rand(1).uniform(2 * 28 * 28, 0, 1), Shape.of(2, 1, 28, 28));
                Tensor labels = backend.upload(new float[] {3, 7}, Shape.of(2));
                Workspace ws = model.newWorkspace()) {
            Tensor logits = ws.forward(x, Pass.train(0));
            assertEquals(Shape.of(2, 10), logits.shape());
            loss.compute(logits, labels);
            ws.backward(loss.gradient());
            for (Parameter p : model.parameters()) {
                float[] g = p.grad().toArray();
                boolean finite = true;
                boolean nonzero = false;
                for (float v : g) {
                    finite &= Float.isFinite(v);
                    nonzero |= v != 0;
                }
                assertTrue(finite && nonzero, p.name() + " has a finite, nonzero gradient");
            }
            float[] before = model.parameters().get(0).value().toArray();
            adam.step(model.parameters());
            assertFalse(java.util.Arrays.equals(before, model.parameters().get(0).value().toArray()), "0.weight moved");
        }
    }

    @Test
    void summaryListsEveryLayerWithItsShapeAndCount() {
        try (Model model = Zoo.seedNet().seed(42).build(backend)) {
            String summary = model.summary();
            assertTrue(summary.contains("0 (Conv2d)"), summary);
            assertTrue(summary.contains("(N, 32, 28, 28)"), summary);
            assertTrue(summary.contains("3,212,288"), summary); // dense 3136 -> 1024
            assertTrue(summary.contains("9 (Dropout)"), summary);
            assertTrue(summary.contains("Total params: 3,274,634"), summary);
        }
    }

    @Test
    void denseAfterConvWithoutFlattenNamesTheLayerAndSaysWhatToAdd() {
        Sequential.Builder b = Sequential.builder().input(1, 8, 8)
                .add(Conv2d.builder().filters(4).kernel(3).build()).add(new ReLU())
                .add(Dense.builder().units(10).build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.build(backend));
        String m = e.getMessage();
        assertTrue(m.contains("layer 2 (Dense)"), m);
        assertTrue(m.contains("(4, 6, 6)"), m);
        assertTrue(m.contains("Flatten"), m);
    }

    @Test
    void convThatShrinksTheMapBelowOnePixelShowsTheFormulaWithNumbers() {
        Sequential.Builder b = Sequential.builder().input(1, 12, 12)
                .add(new MaxPool2d(4))
                .add(Conv2d.builder().filters(8).kernel(5).build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.build(backend));
        String m = e.getMessage();
        assertTrue(m.contains("layer 1 (Conv2d)"), m);
        assertTrue(m.contains("(1, 3, 3)"), m);
        assertTrue(m.contains("(3 + 2*0 - 1*(5 - 1) - 1) / 1 + 1 = -1"), m);
    }

    @Test
    void poolWindowLargerThanTheMapShowsTheFormula() {
        Sequential.Builder b = Sequential.builder().input(2, 3, 5).add(new AvgPool2d(4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.build(backend));
        String m = e.getMessage();
        assertTrue(m.contains("layer 0 (AvgPool2d)"), m);
        assertTrue(m.contains("output height (in + 2*pad - window) / stride + 1 = (3 + 2*0 - 4) / 4 + 1 = 0"), m);
    }

    @Test
    void convOnFlatItemsIsRejected() {
        Sequential.Builder b = Sequential.builder().input(10).add(Conv2d.builder().filters(2).kernel(1).build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.build(backend));
        assertTrue(e.getMessage().contains("layer 0 (Conv2d) with input (10,)"), e.getMessage());
    }

    @Test
    void aLayerBelongsToOneModel() {
        ReLU relu = new ReLU();
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder().input(4).add(relu).add(relu).build(backend));
        assertTrue(twice.getMessage().contains("layer 1 (ReLU) is the same instance as layer 0"), twice.getMessage());
        try (Model first = Sequential.builder().input(4).add(relu).build(backend)) {
            IllegalArgumentException again = assertThrows(IllegalArgumentException.class,
                    () -> Sequential.builder().input(4).add(relu).build(backend));
            assertTrue(again.getMessage().contains("layer 0 (ReLU) is already part of another model"), again.getMessage());
        }
    }

    @Test
    void builderRequiresInputLayersAndValidSettings() {
        assertThrows(IllegalArgumentException.class, () -> Sequential.builder().add(new ReLU()).build(backend));
        assertThrows(IllegalArgumentException.class, () -> Sequential.builder().input(3).build(backend));
        IllegalArgumentException noFilters = assertThrows(IllegalArgumentException.class,
                () -> Conv2d.builder().kernel(3).build());
        assertTrue(noFilters.getMessage().contains("filters"), noFilters.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Conv2d.builder().filters(2).build());
        assertThrows(IllegalArgumentException.class, () -> Conv2d.builder().filters(2).kernel(3).stride(0).build());
        assertThrows(IllegalArgumentException.class, () -> Dense.builder().build());
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.0));
        assertThrows(IllegalArgumentException.class, () -> new MaxPool2d(2, 2, 2));
    }

    @Test
    void forwardChecksTheInputShapeNamingTheLayer() {
        try (Model model = Sequential.builder().input(1, 6, 6)
                .add(Conv2d.builder().filters(2).kernel(3).build()).build(backend);
                Tensor wrong = backend.allocate(Shape.of(2, 3, 6, 6));
                Workspace ws = model.newWorkspace()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ws.forward(wrong, Pass.EVAL));
            assertEquals("model: expected input (N, 1, 6, 6) but got (2, 3, 6, 6)", e.getMessage());
        }
    }

    @Test
    void closeReleasesEveryParameter() {
        Model model = Zoo.seedNet().seed(42).build(backend);
        List<Parameter> params = model.parameters();
        model.close();
        for (Parameter p : params) {
            assertTrue(p.value().isClosed() && p.grad().isClosed(), p.name());
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, model::newWorkspace);
        assertEquals("model: the model is closed", e.getMessage());
    }

    @Test
    void firstLayerSkipsItsInputGradientAndTheGradientIsItsOwn() {
        // A layer that records the dx it is given: the first layer of a model gets none.
        class Probe extends Layer {
            final java.util.List<Boolean> dxGiven = new java.util.ArrayList<>();

            @Override
            protected Shape inferOutputShape(Shape in) {
                return in;
            }

            @Override
            protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
                backend().copy(y, x);
            }

            @Override
            protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
                dxGiven.add(dx != null);
                if (dx != null) {
                    backend().copy(dx, dy);
                }
            }
        }
        Probe first = new Probe();
        Probe second = new Probe();
        try (Model model = Sequential.builder().input(3).add(first).add(Dense.builder().units(2).build()).add(second)
                .build(backend);
                Tensor x = backend.upload(new float[] {1, 2, 3}, Shape.of(1, 3));
                Tensor dy = backend.upload(new float[] {1, -1}, Shape.of(1, 2));
                Workspace ws = model.newWorkspace()) {
            ws.forward(x, Pass.train(0));
            ws.backward(dy);
            assertEquals(List.of(), first.dxGiven, "no parameter before it and nothing needs the model input's gradient:"
                    + " its backward is skipped");
            assertEquals(List.of(true), second.dxGiven);
            // dense weight grad = dyᵀ·x
            Close.assertClose("dense dw", new float[] {1, 2, 3, -1, -2, -3}, model.parameters().get(0).grad().toArray(),
                    0, 0);
        }
    }
}
