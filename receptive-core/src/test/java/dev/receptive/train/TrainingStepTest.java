package dev.receptive.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.nn.Model;
import dev.receptive.nn.Parameter;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Workspace;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.Rand;
import dev.receptive.zoo.Zoo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The one training step of Trainer and Spark: the same bits as the loop it replaced, shards that add up. */
class TrainingStepTest {
    private static final int BATCH = 12;
    private final Backend backend = Backends.create("cpu");
    private final float[] images = new Rand(3).uniform(BATCH * 784, -1, 1);
    private final float[] labels = new float[BATCH];

    TrainingStepTest() {
        for (int i = 0; i < BATCH; i++) {
            labels[i] = (i * 7) % 10;
        }
    }

    @AfterEach
    void close() {
        backend.close();
    }

    private Model seedNet() {
        return Zoo.seedNet().seed(4).build(backend);
    }

    private static List<float[]> weights(Model model) {
        List<float[]> w = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            w.add(p.value().toArray());
        }
        return w;
    }

    private static List<float[]> grads(Model model) {
        List<float[]> g = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            g.add(p.grad().toArray());
        }
        return g;
    }

    /**
     * Three Adam steps of the seed network (dropout keyed by the step) through the step equal, bit
     * for bit, the loop written out by hand: zeroGrad, forward, loss, backward, update.
     */
    @Test
    void theStepIsTheHandWrittenLoopBitForBit() {
        List<float[]> byHand;
        try (Model model = seedNet(); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build(); Workspace ws = model.newWorkspace();
                Tensor y = backend.upload(labels, Shape.of(BATCH))) {
            for (int step = 0; step < 3; step++) {
                model.zeroGrad();
                loss.compute(ws.forward(images, Pass.train(step)), y);
                ws.backward(loss.gradient());
                adam.step(model.parameters());
            }
            byHand = weights(model);
        }
        try (Model model = seedNet(); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build();
                TrainingStep step = new TrainingStep(model, loss, adam, LrSchedule.constant(), 1)) {
            for (int s = 0; s < 3; s++) {
                assertEquals(1e-3f, step.start(0, s / 3.0));
                step.gradients(images, labels, BATCH, s, 0, 1f, null);
                step.update();
            }
            List<float[]> stepped = weights(model);
            for (int k = 0; k < byHand.size(); k++) {
                assertArrayEquals(byHand.get(k), stepped.get(k), model.parameters().get(k).name());
            }
        }
    }

    /**
     * Shards of 5 and 7 items, each weighted n/B at its offset in the batch, add up to the whole
     * batch's gradient; so do three micro-batches of 4. Tolerance: the same per-item terms summed
     * in another grouping and the loss gradient divided in two steps differ by fp32 rounding of the
     * largest terms; 1e-6 absolute plus 1e-4 relative covers it, while a lost shard, a wrong weight
     * or another dropout mask is off by far more.
     */
    @Test
    void shardsAndMicroBatchesAddUpToTheWholeBatch() {
        try (Model model = seedNet(); Loss loss = Loss.softmaxCrossEntropy();
                TrainingStep whole = new TrainingStep(model, loss, null, LrSchedule.constant(), 1);
                TrainingStep micro = new TrainingStep(model, loss, null, LrSchedule.constant(), 3)) {
            whole.gradients(images, labels, BATCH, 2, 0, 1f, null);
            List<float[]> expected = grads(model);

            micro.gradients(images, labels, BATCH, 2, 0, 1f, null);
            assertGradsClose(expected, grads(model), model);

            int first = 5;
            whole.gradients(Arrays.copyOf(images, first * 784), Arrays.copyOf(labels, first), first, 2, 0,
                    (float) first / BATCH, null);
            List<float[]> sum = grads(model);
            whole.gradients(Arrays.copyOfRange(images, first * 784, BATCH * 784),
                    Arrays.copyOfRange(labels, first, BATCH), BATCH - first, 2, first, (float) (BATCH - first) / BATCH,
                    null);
            List<float[]> second = grads(model);
            for (int k = 0; k < sum.size(); k++) {
                for (int i = 0; i < sum.get(k).length; i++) {
                    sum.get(k)[i] += second.get(k)[i];
                }
            }
            assertGradsClose(expected, sum, model);
        }
    }

    private static void assertGradsClose(List<float[]> expected, List<float[]> actual, Model model) {
        for (int k = 0; k < expected.size(); k++) {
            Close.assertClose(model.parameters().get(k).name(), expected.get(k), actual.get(k), 1e-6, 1e-4);
        }
    }

    @Test
    void theObserverSeesEveryMicroBatchAndTheScheduleSetsTheRate() {
        try (Model model = seedNet(); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer sgd = Optimizer.sgd(0.1).build();
                TrainingStep step = new TrainingStep(model, loss, sgd, LrSchedule.cosine(2, 0), 2)) {
            assertEquals(0.1f, step.start(0, 0));
            assertEquals(0.05f, step.start(0, 1), 1e-7f);
            assertEquals(0.05f, sgd.learningRate(), 1e-7f);
            List<float[]> seen = new ArrayList<>();
            step.gradients(images, labels, BATCH, 0, 0, 1f, (l, out, y) -> {
                assertEquals(Shape.of(BATCH / 2, 10), out.shape());
                seen.add(y.clone());
            });
            assertEquals(2, seen.size());
            assertArrayEquals(Arrays.copyOfRange(labels, BATCH / 2, BATCH), seen.get(1));
        }
    }

    @Test
    void misuseIsRefused() {
        try (Model model = seedNet(); Loss loss = Loss.softmaxCrossEntropy();
                TrainingStep gradientsOnly = new TrainingStep(model, loss, null, LrSchedule.constant(), 5)) {
            assertThrows(IllegalStateException.class, gradientsOnly::update);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> gradientsOnly.gradients(images, labels, BATCH, 0, 0, 1f, null));
            assertTrue(e.getMessage().contains("12 items do not split into 5"), e.getMessage());
            TrainingDivergedException d = assertThrows(TrainingDivergedException.class,
                    () -> gradientsOnly.checkLoss(Double.NaN, 17));
            assertTrue(d.getMessage().contains("step 17") && d.getMessage().contains("NaN"), d.getMessage());
            gradientsOnly.checkLoss(2.3, 17);
        }
        assertThrows(IllegalArgumentException.class, () -> new TrainingStep(null, null, null, LrSchedule.constant(), 1));
    }
}
