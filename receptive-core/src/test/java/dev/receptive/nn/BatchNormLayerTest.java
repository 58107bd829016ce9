package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.loss.Loss;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
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

/** BatchNorm2d, BatchNorm1d and global average pooling as layers of a model. */
class BatchNormLayerTest {
    private final Backend backend = TestBackends.cpu(1);

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    private Model net(long seed) {
        return Sequential.builder().input(2, 5, 5)
                .add(Conv2d.builder().filters(3).kernel(3).padding(1).bias(false).build()) // batch norm shifts
                .add(new BatchNorm2d())
                .add(new Tanh())
                .add(new GlobalAvgPool2d())
                .add(new Flatten())
                .add(Dense.builder().units(4).bias(false).build())
                .add(new BatchNorm1d(1e-3, 0.2))
                .seed(seed).build(backend);
    }

    @Test
    void namesShapesAndStartingValuesFollowPyTorch() {
        try (Model model = net(1)) {
            assertEquals(List.of("0.weight", "1.weight", "1.bias", "5.weight", "6.weight", "6.bias"),
                    model.parameters().stream().map(Parameter::name).toList());
            assertEquals(List.of("1.running_mean", "1.running_var", "1.num_batches_tracked", "6.running_mean",
                    "6.running_var", "6.num_batches_tracked"), model.buffers().stream().map(Buffer::name).toList());
            Map<String, HostTensor> state = model.stateDict();
            assertEquals(List.of("0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                    "1.num_batches_tracked", "5.weight", "6.weight", "6.bias", "6.running_mean",
                    "6.running_var", "6.num_batches_tracked"), List.copyOf(state.keySet()));
            assertArrayEquals(new float[] {1, 1, 1}, state.get("1.weight").data());
            assertArrayEquals(new float[] {0, 0, 0}, state.get("1.running_mean").data());
            assertArrayEquals(new float[] {1, 1, 1}, state.get("1.running_var").data());
            assertEquals(Shape.of(3, 1, 1), model.layers().get(3).outputShape());
            assertTrue(model.architecture().contains("{\"type\":\"BatchNorm1d\",\"eps\":0.001,\"momentum\":0.2}"),
                    model.architecture());
        }
    }

    @Test
    void trainingPassesFiniteDifferencesAndMovesTheRunningStatistics() {
        Rand rand = new Rand(12);
        try (Model model = net(2); Loss loss = Loss.meanSquaredError();
                Tensor x = backend.upload(rand.uniform(4 * 50, -1, 1), Shape.of(4, 2, 5, 5));
                Tensor target = backend.upload(rand.uniform(16, -1, 1), Shape.of(4, 4))) {
            for (Parameter p : model.parameters()) {
                backend.upload(p.value(), rand.uniform(p.shape().size(), 0.5, 1.5));
            }
            ModelGradients.checkEveryParameter(model, loss, x, target, Pass.train(0));
            Map<String, HostTensor> state = model.stateDict();
            // Every training forward of the check (1 + 2 per parameter value) counted a batch.
            float forwards = state.get("1.num_batches_tracked").data()[0];
            assertTrue(forwards > 100, "num_batches_tracked " + forwards);
            assertFalse(java.util.Arrays.equals(new float[] {0, 0, 0}, state.get("1.running_mean").data()));
        }
    }

    @Test
    void oneTrainingPassUpdatesTheRunningStatisticsAsPyTorchDoes() {
        float[] images = new Rand(13).uniform(3 * 50, -1, 1);
        try (Model model = Sequential.builder().input(2, 5, 5).add(new BatchNorm2d()).build(backend);
                Workspace ws = model.newWorkspace()) {
            ws.forward(images, Pass.train(0));
            Map<String, HostTensor> state = model.stateDict();
            for (int c = 0; c < 2; c++) {
                double sum = 0;
                double sq = 0;
                for (int n = 0; n < 3; n++) {
                    for (int j = 0; j < 25; j++) {
                        double v = images[(n * 2 + c) * 25 + j];
                        sum += v;
                        sq += v * v;
                    }
                }
                double mean = sum / 75;
                double unbiased = (sq - 75 * mean * mean) / 74;
                Close.assertClose("running_mean " + c, 0.1 * mean, state.get("0.running_mean").data()[c], 1e-6, 1e-5);
                Close.assertClose("running_var " + c, 0.9 + 0.1 * unbiased, state.get("0.running_var").data()[c], 1e-6,
                        1e-5);
            }
            assertEquals(1f, state.get("0.num_batches_tracked").data()[0]);
            // Evaluation normalizes with the running statistics: other outputs than training's.
            float[] train = ws.forward(images, Pass.train(1)).toArray();
            float[] eval = ws.forward(images, Pass.EVAL).toArray();
            assertFalse(java.util.Arrays.equals(train, eval));
            assertEquals(2f, model.stateDict().get("0.num_batches_tracked").data()[0], "evaluation counts nothing");
        }
    }

    /**
     * Evaluation through the model: y = γ·(x − running_mean)/√(running_var + eps) + β per channel
     * (BatchNorm2d over (N, C, H, W), BatchNorm1d over (N, F)), with statistics and affine
     * parameters loaded by name, against that formula in double. The variances run from 0.01 to
     * 25 so that eps (1e-3 for the 1-d layer) moves the result far beyond the tolerance, and the
     * batch's own statistics differ from the loaded ones, so normalizing by the batch fails too.
     * Tolerance: a handful of fp32 roundings of values below 40: 1e-5 + 1e-5 relative.
     */
    @Test
    void evaluationNormalizesWithTheLoadedRunningStatistics() {
        Rand rand = new Rand(15);
        int n = 3;
        try (Model bn2 = Sequential.builder().input(3, 4, 5).add(new BatchNorm2d()).build(backend);
                Model bn1 = Sequential.builder().input(4).add(new BatchNorm1d(1e-3, 0.2)).build(backend)) {
            float[] mean2 = {-3, 0.5f, 2};
            float[] var2 = {0.01f, 1.5f, 25};
            float[] gamma2 = {2, -0.5f, 1.25f};
            float[] beta2 = {0.25f, -1, 3};
            bn2.loadStateDict(Map.of("0.weight", host(gamma2), "0.bias", host(beta2), "0.running_mean", host(mean2),
                    "0.running_var", host(var2), "0.num_batches_tracked", host(7)));
            float[] x2 = rand.uniform(n * 3 * 20, -4, 4);
            float[] y2;
            try (Workspace ws = bn2.newWorkspace()) {
                y2 = ws.forward(x2, Pass.EVAL).toArray();
            }
            Close.assertClose("BatchNorm2d", normalize(x2, n, 3, 20, gamma2, beta2, mean2, var2, 1e-5), y2, 1e-5, 1e-5);

            float[] mean1 = {1, -2, 0, 0.125f};
            float[] var1 = {0.01f, 4, 0.5f, 9};
            float[] gamma1 = {1, 3, -2, 0.5f};
            float[] beta1 = {0, 0.5f, -0.25f, 1};
            bn1.loadStateDict(Map.of("0.weight", host(gamma1), "0.bias", host(beta1), "0.running_mean", host(mean1),
                    "0.running_var", host(var1), "0.num_batches_tracked", host(7)));
            float[] x1 = rand.uniform(n * 4, -3, 3);
            float[] y1;
            try (Workspace ws = bn1.newWorkspace()) {
                y1 = ws.forward(x1, Pass.EVAL).toArray();
            }
            Close.assertClose("BatchNorm1d", normalize(x1, n, 4, 1, gamma1, beta1, mean1, var1, 1e-3), y1, 1e-5, 1e-5);
            // Each item alone gives its row of the batch: evaluation uses no batch statistic.
            for (int i = 0; i < n; i++) {
                try (Workspace ws = bn1.newWorkspace()) {
                    float[] alone = ws.forward(java.util.Arrays.copyOfRange(x1, i * 4, i * 4 + 4), Pass.EVAL).toArray();
                    assertArrayEquals(java.util.Arrays.copyOfRange(y1, i * 4, i * 4 + 4), alone, "item " + i);
                }
            }
            assertEquals(7f, bn2.stateDict().get("0.num_batches_tracked").data()[0], "evaluation counts nothing");
        }
    }

    private static HostTensor host(float... values) {
        return new HostTensor(Shape.of(values.length), values);
    }

    /** y = γ·(x − mean)/√(var + eps) + β in double, x: (n, c, inner). */
    private static double[] normalize(float[] x, int n, int c, int inner, float[] gamma, float[] beta, float[] mean,
            float[] var, double eps) {
        double[] y = new double[x.length];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                double scale = gamma[ch] / Math.sqrt((double) var[ch] + eps);
                for (int j = 0; j < inner; j++) {
                    int at = (i * c + ch) * inner + j;
                    y[at] = scale * (x[at] - (double) mean[ch]) + beta[ch];
                }
            }
        }
        return y;
    }

    @Test
    void buffersAreSavedAndLoaded() throws IOException {
        Path file = dir.resolve("bn.safetensors");
        try (Model model = net(3); Tensor x = backend.upload(new Rand(14).uniform(4 * 50, -1, 1), Shape.of(4, 2, 5, 5))) {
            try (Workspace ws = model.newWorkspace()) {
                ws.forward(x, Pass.train(0)); // moves the running statistics away from 0 and 1
            }
            ModelFile.save(file, model);
            try (Model loaded = ModelFile.load(file, backend)) {
                assertEquals(model.stateDict().keySet(), loaded.stateDict().keySet());
                model.stateDict().forEach((name, t) -> assertArrayEquals(t.data(), loaded.stateDict().get(name).data(),
                        name));
                assertArrayEquals(Run.eval(model, x), Run.eval(loaded, x));
            }
        }
    }

    @Test
    void backwardAfterAnEvaluationPassIsRefused() {
        try (Model model = net(4); Workspace ws = model.newWorkspace();
                Tensor dy = backend.allocate(Shape.of(2, 4))) {
            ws.forward(new float[2 * 50], Pass.EVAL);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ws.backward(dy));
            assertTrue(e.getMessage().contains("layer 6 (BatchNorm1d): backward after an evaluation pass"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm2d(1e-6, 0.1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder().input(8).add(new BatchNorm2d()).build(backend));
        assertTrue(e.getMessage().contains("use BatchNorm1d"), e.getMessage());
    }
}
