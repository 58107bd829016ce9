package dev.receptive.backend.cuda;

import static dev.receptive.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.receptive.backend.Backend;
import dev.receptive.data.Dataset;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Model;
import dev.receptive.nn.Workspace;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import dev.receptive.train.Checkpoint;
import dev.receptive.train.Metrics;
import dev.receptive.train.RunFolder;
import dev.receptive.train.Trainer;
import dev.receptive.zoo.Zoo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The zoo's seed network trained through the real model path (Model, Workspace, Loss, Optimizer) and through
 * the Trainer, on any backend, and the lock-step comparison of two such runs. The CUDA tests run it
 * on the GPU against the CPU; ModelLockStepCheckTest shows on the CPU alone that the comparison
 * catches a small error.
 */
final class ModelLockStep {
    static final int BATCH = 16;
    static final int STEPS = 10;
    static final float LR = 1e-4f;
    static final long SEED = 7;

    /** The losses of every step and the weights after the last. */
    record Run(List<Float> losses, Map<String, HostTensor> weights) {
    }

    private ModelLockStep() {
    }

    /** Random images in [0, 1] and labels 0..9: lock-step needs no real data. */
    static Dataset data(int n, long seed) {
        Rand rand = new Rand(seed);
        float[] labels = rand.labels(n, 10);
        int[] classes = new int[n];
        for (int i = 0; i < n; i++) {
            classes[i] = (int) labels[i];
        }
        return new Dataset(rand.uniform(n * 784, 0, 1), classes, Shape.of(1, 28, 28),
                IntStream.range(0, 10).mapToObj(Integer::toString).toList());
    }

    /** {@link #STEPS} steps of forward, loss, backward and Adam, as the Trainer's loop does them. */
    static Run modelSteps(Backend b, float lr) {
        Rand rand = new Rand(2026);
        List<Float> losses = new ArrayList<>();
        try (Model model = Zoo.seedNet().seed(SEED).build(b); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(lr).build(); Workspace ws = model.newWorkspace();
                Tensor x = b.allocate(Shape.of(BATCH, 1, 28, 28)); Tensor y = b.allocate(Shape.of(BATCH))) {
            for (int step = 0; step < STEPS; step++) {
                b.upload(x, rand.uniform(BATCH * 784, 0, 1));
                b.upload(y, rand.labels(BATCH, 10));
                model.zeroGrad();
                Tensor out = ws.forward(x, Pass.train(step));
                loss.compute(out, y);
                ws.backward(loss.gradient());
                adam.step(model.parameters());
                losses.add(loss.value());
            }
            return new Run(losses, model.stateDict());
        }
    }

    /** One epoch of {@link #STEPS} steps through Trainer.fit, writing its run folder to {@code dir}. */
    static Run trainerEpoch(Backend b, Path dir, float lr) throws IOException {
        try (Model model = Zoo.seedNet().seed(SEED).build(b); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(lr).build()) {
            Trainer trainer = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(1).batchSize(BATCH)
                    .seed(3).outputDir(dir).build();
            List<Metrics> history = trainer.fit(data(BATCH * STEPS, 11));
            assertEquals(STEPS, trainer.step());
            Checkpoint written = Checkpoint.read(dir.resolve(RunFolder.CHECKPOINT));
            assertEquals(1, written.epoch());
            return new Run(List.of((float) history.get(0).trainLoss()), model.stateDict());
        }
    }

    /**
     * Two runs agree step by step. The loss of each step comes from weights that differ only by the
     * rounding of earlier steps (fp32 sums in another order): 1e-5 absolute, 1e-4 relative. Adam
     * moves each weight by about lr per step whatever the gradient's size, so a gradient that rounds
     * to the other sign near zero moves a weight 2·lr the other way: 2·lr·steps absolute bounds
     * that; everything else agrees to 1e-4 relative.
     */
    static void assertLockStep(Run expected, Run actual, float lr, int steps) {
        assertEquals(expected.losses().size(), actual.losses().size());
        for (int i = 0; i < expected.losses().size(); i++) {
            assertClose("loss of step " + (i + 1), expected.losses().get(i), actual.losses().get(i), 1e-5, 1e-4);
        }
        assertEquals(expected.weights().keySet(), actual.weights().keySet());
        expected.weights().forEach((name, t) -> assertClose(name + " after " + steps + " steps", t.data(),
                actual.weights().get(name).data(), 2 * lr * steps, 1e-4));
    }
}
