package dev.receptive.backend.cuda;

import static dev.receptive.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * A zoo network trained through the real model path (Model, Workspace, Loss, Optimizer) and through
 * the Trainer, on any backend, and the lock-step comparison of two such runs. The CUDA tests run it
 * on the GPU against the CPU; ModelLockStepCheckTest shows on the CPU alone that the comparison
 * catches a small error.
 *
 * <p>Why plain SGD and not Adam: Adam's step is lr·m̂/(√v̂ + ε), which is invariant to the scale of
 * the gradient and at most about lr whatever the gradient is, so after k steps the weights of ANY two
 * runs differ by at most about 2·lr·k: the former bound of that size could not fail. Plain SGD moves
 * a weight by −lr·g, linear in the gradient, so a gradient that is wrong by a fraction shows as a
 * displacement wrong by the same fraction. Adam's own update is checked bit for bit at op level
 * (CudaParityTest.adamStepsAreBitIdentical).
 */
final class ModelLockStep {
    static final int BATCH = 16;
    static final int STEPS = 10;
    static final float LR = 0.01f;
    static final long SEED = 7;

    /**
     * The relative error of one fp32 sum of products computed in another order, as the op-level
     * parity test bounds it (CudaParityTest.SUM_RTOL): cuDNN/cuBLAS and the CPU both sum in fp32,
     * each rounding by u = 2⁻²⁴ per addition, so the error of a sum of n terms is at most
     * γₙ·Σ|terms| (Higham, Accuracy and Stability, §4.2) and in practice about √n·u·Σ|terms|
     * (random-walk rounding): for the n ≤ 12,544 terms of these models' gradient sums that is
     * ≤ 1.9e-5 of Σ|terms|, and 1e-4 leaves a factor of 5 for terms of mixed sign.
     */
    static final double SUM_RTOL = 1e-4;

    /**
     * Routing changes: a ReLU input or a max-pool candidate that lies within rounding of 0 (or of
     * its rival) can be routed differently on the two backends, which moves one term of one
     * gradient sum. One term of a sum of n random-signed terms is about 1/√n of its size (n ≥ 784
     * here: ≤ 3.6%), it touches a few hundred of the thousands of weights of a tensor, and with
     * inputs spread over [0, 1] it happens about once per run (the chance that an output of rms 0.3
     * lies within 1e-7 of 0 is ~3e-7, over ~6e5 conv outputs per step). Its share of a tensor's
     * displacement norm is at most ~1e-3.
     */
    static final double ROUTING_ALLOWANCE = 1e-3;

    /** The losses of every step and the weights and buffers before the first step and after the last. */
    record Run(List<Float> losses, Map<String, HostTensor> initial, Map<String, HostTensor> weights) {
    }

    private ModelLockStep() {
    }

    /**
     * The relative tolerance on each tensor's displacement for a model whose backward pass chains
     * {@code sums} sums of products (conv, dense, batch-norm reductions) between the loss and its
     * deepest weight: to first order the relative errors of chained linear maps add, so the
     * gradient of the deepest weight is off by at most sums·SUM_RTOL, and so is its SGD
     * displacement (−lr·Σ g, linear in g; the weights differing by rounding in later steps changes
     * g only in second order: lr·|g|/|w| ≈ 1e-2 times a rounding error).
     */
    static double tolerance(int sums) {
        return sums * SUM_RTOL + ROUTING_ALLOWANCE;
    }

    /** seednet: dense 10, dense 1024, conv 64, conv 32 (4 sums of products, 1.4e-3). */
    static final double SEEDNET_TOLERANCE = tolerance(4);

    /**
     * resnet8: the stem conv, 3 blocks of 2 convs (the longest path; the projection shortcuts are
     * shorter), the dense layer, and a batch norm after each of the 7 convs whose backward has two
     * channel reductions: 8 + 2·7 = 22 sums (3.2e-3). A 1% error is still three times the bound.
     */
    static final double RESNET8_TOLERANCE = tolerance(22);

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

    /** {@link #STEPS} steps of forward, loss, backward and SGD, as the Trainer's loop does them. */
    static Run modelSteps(Backend b, String network, float lr) {
        Rand rand = new Rand(2026);
        List<Float> losses = new ArrayList<>();
        try (Model model = Zoo.build(network, b, SEED); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer sgd = Optimizer.sgd(lr).build(); Workspace ws = model.newWorkspace();
                Tensor x = b.allocate(Shape.of(BATCH, 1, 28, 28)); Tensor y = b.allocate(Shape.of(BATCH))) {
            Map<String, HostTensor> initial = model.stateDict();
            for (int step = 0; step < STEPS; step++) {
                b.upload(x, rand.uniform(BATCH * 784, 0, 1));
                b.upload(y, rand.labels(BATCH, 10));
                model.zeroGrad();
                Tensor out = ws.forward(x, Pass.train(step));
                loss.compute(out, y);
                ws.backward(loss.gradient());
                sgd.step(model.parameters());
                losses.add(loss.value());
            }
            return new Run(losses, initial, model.stateDict());
        }
    }

    /** One epoch of {@link #STEPS} steps of seednet through Trainer.fit, writing its run folder to {@code dir}. */
    static Run trainerEpoch(Backend b, Path dir, float lr) throws IOException {
        try (Model model = Zoo.build("seednet", b, SEED); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer sgd = Optimizer.sgd(lr).build()) {
            Map<String, HostTensor> initial = model.stateDict();
            Trainer trainer = Trainer.builder().model(model).loss(loss).optimizer(sgd).epochs(1).batchSize(BATCH)
                    .seed(3).outputDir(dir).build();
            List<Metrics> history = trainer.fit(data(BATCH * STEPS, 11));
            assertEquals(STEPS, trainer.step());
            Checkpoint written = Checkpoint.read(dir.resolve(RunFolder.CHECKPOINT));
            assertEquals(1, written.epoch());
            return new Run(List.of((float) history.get(0).trainLoss()), initial, model.stateDict());
        }
    }

    /**
     * Two runs agree step by step.
     * <ul>
     *   <li>The initial weights are made on the host from the seed: bit-identical.</li>
     *   <li>The loss of each step comes from weights that differ only by the rounding of earlier
     *       steps and a forward pass summed in another order: 1e-5 absolute, 1e-4 relative (a loss
     *       of about 2.3 from a forward pass with a wrong term is off by far more).</li>
     *   <li>Each tensor's displacement d = w_after − w_before: ‖d_actual − d_expected‖₂ ≤
     *       tolerance·‖d_expected‖₂ (see {@link #tolerance}). The norm, not each element, because
     *       an element whose gradient is a near-cancelling sum has a rounding error large relative
     *       to itself but not to the tensor; a wrong gradient (a missed term, a wrong scale, another
     *       item's data) is wrong over the whole tensor and its relative norm error is its size.
     *       Calibration on the CPU alone: its two kernel sets (the scalar reference and the Vector
     *       API kernels, which sum conv and dense products in other orders) give runs whose
     *       displacements differ by at most 5.4e-6 (seednet) and 9.8e-5 (resnet8, a batch norm's γ)
     *       of their norms, and losses by 1e-7 relative (measured 2026-12-04 with
     *       -Dreceptive.cpu.vector=false against the default): the bounds leave 15 to 250 times
     *       that for cuDNN's and cuBLAS's orders and algorithms.</li>
     * </ul>
     */
    static void assertLockStep(Run expected, Run actual, double tolerance) {
        assertEquals(expected.losses().size(), actual.losses().size());
        for (int i = 0; i < expected.losses().size(); i++) {
            assertClose("loss of step " + (i + 1), expected.losses().get(i), actual.losses().get(i), 1e-5, 1e-4);
        }
        assertEquals(expected.weights().keySet(), actual.weights().keySet());
        expected.initial().forEach((name, t) -> assertArrayEquals(t.data(), actual.initial().get(name).data(),
                name + ": initial values differ"));
        expected.weights().forEach((name, t) -> {
            float[] before = expected.initial().get(name).data();
            float[] e = t.data();
            float[] a = actual.weights().get(name).data();
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < e.length; i++) {
                double de = (double) e[i] - before[i];
                double da = (double) a[i] - before[i];
                diff += (da - de) * (da - de);
                norm += de * de;
            }
            double relative = Math.sqrt(diff) / Math.sqrt(norm);
            double moved = Math.sqrt(norm);
            // A tensor that did not move (norm 0) must not move on the other side either.
            assertTrue(norm == 0 ? diff == 0 : relative <= tolerance, String.format(
                    "%s after %d steps: displacement differs by %.3g of its norm %.3g (tolerance %.2g)", name,
                    expected.losses().size(), relative, moved, tolerance));
        });
    }
}
