package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Activation;
import dev.receptive.backend.AdamParams;
import dev.receptive.backend.Backend;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.backend.SgdParams;
import dev.receptive.testing.TestBackends;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.Rand;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every op, forward and backward, on the GPU against the CPU reference on random shapes:
 * |gpu − cpu| ≤ atol + rtol·|cpu|. Tolerances, by what the two backends compute:
 * <ul>
 *   <li>Sums of many products (conv, dense): both fp32 in different orders. Their rounding errors
 *       grow with the size of the terms, not with a result that cancels to near zero, so the
 *       absolute term is 1e-5 of the output's root-mean-square (for 3136 products of values in
 *       [−1, 1], about 2e-4), and the relative term 1e-4.</li>
 *   <li>cuDNN softmax (fp32 expf) against the CPU's double: 1e-7 + 1e-5·|cpu|.</li>
 *   <li>tanh, sigmoid, losses: both in double, rounded once to float; the exp/log of CUDA and of
 *       the JDK may differ in the last double bit, which can move the float by one ulp: 2⁻²³
 *       relative.</li>
 *   <li>Pointwise float ops, optimizer updates and dropout: the same float operations in the same
 *       order (kernels built without FMA contraction), so bit for bit.</li>
 *   <li>Concatenation and its backward only copy values: bit for bit.</li>
 *   <li>Batch norm: per-channel sums of N·H·W terms, then pointwise: the rule for sums.</li>
 * </ul>
 */
class CudaParityTest {
    private static final double SUM_RMS_FRACTION = 1e-5;
    private static final double SUM_RTOL = 1e-4;
    private static final double ULP_RTOL = 0x1p-23; // one float ulp, relative, at most

    private CudaBackend gpu;
    private Backend cpu;
    private long liveAtStart;
    private final List<Tensor> made = new ArrayList<>();

    /** The same data on both backends. */
    private record Twin(Tensor c, Tensor g) {
    }

    @BeforeEach
    void open() {
        gpu = CudaTestSupport.backendOrSkip();
        cpu = TestBackends.cpu();
        liveAtStart = gpu.liveBytes();
    }

    @AfterEach
    void close() {
        for (int i = made.size() - 1; i >= 0; i--) {
            made.get(i).close();
        }
        made.clear();
        if (gpu != null) {
            assertEquals(liveAtStart, gpu.liveBytes(), "device bytes still held after closing every tensor");
            gpu.close();
        }
        if (cpu != null) {
            cpu.close();
        }
    }

    private Twin twin(float[] data, int... dims) {
        Tensor c = keep(cpu.upload(data, Shape.of(dims)));
        Tensor g = keep(gpu.upload(data, Shape.of(dims)));
        return new Twin(c, g);
    }

    /** Outputs start as the same garbage on both sides, so an op that forgets to write shows. */
    private Twin out(int... dims) {
        float[] junk = new float[Shape.of(dims).size()];
        java.util.Arrays.fill(junk, 7f);
        return twin(junk, dims);
    }

    private Tensor keep(Tensor t) {
        made.add(t);
        return t;
    }

    private static void close(String what, Twin t, double atol, double rtol) {
        Close.assertClose(what, t.c().toArray(), t.g().toArray(), atol, rtol);
    }

    /** Sums of products: atol = 1e-5 · rms(cpu), rtol = 1e-4 (see the class comment). */
    private static void closeSums(String what, Twin t) {
        float[] c = t.c().toArray();
        double squares = 0;
        for (float v : c) {
            squares += (double) v * v;
        }
        double atol = SUM_RMS_FRACTION * Math.sqrt(squares / c.length);
        Close.assertClose(what, c, t.g().toArray(), atol, SUM_RTOL);
    }

    private static void bits(String what, Twin t) {
        float[] c = t.c().toArray();
        float[] g = t.g().toArray();
        int[] cb = new int[c.length];
        int[] gb = new int[g.length];
        for (int i = 0; i < c.length; i++) {
            cb[i] = Float.floatToRawIntBits(c[i]);
            gb[i] = Float.floatToRawIntBits(g[i]);
        }
        assertArrayEquals(cb, gb, what + ": GPU bits differ from the CPU's");
    }

    // ---- conv2d -------------------------------------------------------------------------

    @Test
    void conv2dOnRandomGeometries() {
        Rand rand = new Rand(11);
        for (int trial = 0; trial < 12; trial++) {
            int n = rand.nextInt(1, 4);
            int c = rand.nextInt(1, 8);
            int k = rand.nextInt(1, 9);
            int r = rand.nextInt(1, 5);
            int s = rand.nextInt(1, 5);
            Conv2dParams p = new Conv2dParams(rand.nextInt(1, 2), rand.nextInt(1, 3), rand.nextInt(0, r / 2),
                    rand.nextInt(0, s / 2), rand.nextInt(1, 2), rand.nextInt(1, 2));
            int h = rand.nextInt(p.dilationH() * (r - 1) + 1, 17);
            int w = rand.nextInt(p.dilationW() * (s - 1) + 1, 17);
            conv(rand, "trial " + trial + " " + p, n, c, h, w, k, r, s, p);
        }
    }

    @Test
    void conv2dOnSeedNetworkLayers() {
        Rand rand = new Rand(12);
        conv(rand, "seed conv1", 8, 1, 28, 28, 32, 5, 5, Conv2dParams.of(1, 2, 1));
        conv(rand, "seed conv2", 8, 32, 14, 14, 64, 5, 5, Conv2dParams.of(1, 2, 1));
    }

    private void conv(Rand rand, String what, int n, int c, int h, int w, int k, int r, int s, Conv2dParams p) {
        int ph = Conv2dParams.outputSize(h, r, p.strideH(), p.padH(), p.dilationH());
        int pw = Conv2dParams.outputSize(w, s, p.strideW(), p.padW(), p.dilationW());
        String geo = what + " x=(" + n + "," + c + "," + h + "," + w + ") w=(" + k + "," + c + "," + r + "," + s + ")";
        Twin x = twin(rand.uniform(n * c * h * w, -1, 1), n, c, h, w);
        Twin wt = twin(rand.uniform(k * c * r * s, -1, 1), k, c, r, s);
        Twin b = twin(rand.uniform(k, -1, 1), k);
        Twin dy = twin(rand.uniform(n * k * ph * pw, -1, 1), n, k, ph, pw);
        Twin y = out(n, k, ph, pw);
        Twin dx = out(n, c, h, w);
        Twin dw = out(k, c, r, s);
        Twin db = out(k);
        for (Backend be : new Backend[] {cpu, gpu}) {
            boolean g = be == gpu;
            be.conv2dForward(pick(y, g), pick(x, g), pick(wt, g), pick(b, g), p);
            be.conv2dBackwardData(pick(dx, g), pick(dy, g), pick(wt, g), p);
            be.conv2dBackwardFilter(pick(dw, g), pick(x, g), pick(dy, g), p, false);
            be.conv2dBackwardBias(pick(db, g), pick(dy, g), false);
        }
        closeSums(geo + " forward", y);
        closeSums(geo + " backwardData", dx);
        closeSums(geo + " backwardFilter", dw);
        closeSums(geo + " backwardBias", db);
    }

    private static Tensor pick(Twin t, boolean gpuSide) {
        return gpuSide ? t.g() : t.c();
    }

    // ---- batch normalization ------------------------------------------------------------

    /**
     * Training pass (y, saved statistics, running statistics), evaluation pass and backward (dx, and
     * dγ, dβ overwritten and accumulated) against the CPU. Every output is a per-channel sum of
     * m = N·(H·W) terms followed by pointwise math, so the sums-of-products rule applies (1e-5 of
     * the rms + 1e-4 relative). What a wrong kernel would show, each beyond 1e-4: the biased variance
     * in the running average instead of the unbiased (off by m/(m−1), ≥ 1% for m ≤ 100 here), the
     * momentum applied to the wrong side, eps ignored or applied twice (the cases with eps = 0.1 move
     * 1/√(σ²+eps) by ~15%), running statistics used in training or batch statistics in evaluation,
     * a missing β or the x̂·Σdy·x̂ term of dx, and accumulation that overwrites.
     */
    @Test
    void batchNormTrainingEvaluationAndBackward() {
        Rand rand = new Rand(23);
        int[][] shapes = {{4, 3, 5, 5}, {16, 8}, {2, 6, 7, 3}, {32, 16, 7, 7}};
        for (int[] dims : shapes) {
            for (float eps : new float[] {1e-5f, 0.1f}) {
                batchNorm(rand, dims, eps, 0.1f);
            }
        }
        batchNorm(rand, new int[] {8, 4, 3, 3}, 1e-5f, 1f); // momentum 1: the running stats are the batch's
    }

    private void batchNorm(Rand rand, int[] dims, float eps, float momentum) {
        int size = Shape.of(dims).size();
        int c = dims[1];
        String what = Shape.of(dims) + " eps=" + eps + " momentum=" + momentum;
        // Channels with a mean away from 0 and different spreads, as after a conv layer.
        Twin x = twin(rand.uniform(size, -1, 3), dims);
        Twin gamma = twin(rand.uniform(c, 0.5, 1.5), c);
        Twin beta = twin(rand.uniform(c, -0.5, 0.5), c);
        Twin runningMean = twin(rand.uniform(c, -0.5, 0.5), c);
        Twin runningVar = twin(rand.uniform(c, 0.5, 1.5), c);
        Twin saveMean = out(c);
        Twin saveInvStd = out(c);
        Twin y = out(dims);
        for (Backend be : new Backend[] {cpu, gpu}) {
            boolean g = be == gpu;
            be.batchNormForwardTraining(pick(y, g), pick(x, g), pick(gamma, g), pick(beta, g), pick(runningMean, g),
                    pick(runningVar, g), pick(saveMean, g), pick(saveInvStd, g), momentum, eps);
        }
        closeSums(what + " training y", y);
        closeSums(what + " saveMean", saveMean);
        closeSums(what + " saveInvStd", saveInvStd);
        closeSums(what + " runningMean", runningMean);
        closeSums(what + " runningVar", runningVar);

        // Evaluation from the same running statistics on both sides (the CPU's).
        gpu.upload(runningMean.g(), runningMean.c().toArray());
        gpu.upload(runningVar.g(), runningVar.c().toArray());
        Twin ye = out(dims);
        for (Backend be : new Backend[] {cpu, gpu}) {
            boolean g = be == gpu;
            be.batchNormForwardInference(pick(ye, g), pick(x, g), pick(gamma, g), pick(beta, g), pick(runningMean, g),
                    pick(runningVar, g), eps);
        }
        closeSums(what + " evaluation y", ye);

        // Backward from the same saved statistics (the CPU's), overwriting and then accumulating.
        gpu.upload(saveMean.g(), saveMean.c().toArray());
        gpu.upload(saveInvStd.g(), saveInvStd.c().toArray());
        Twin dy = twin(rand.uniform(size, -1, 1), dims);
        Twin dx = out(dims);
        Twin dGamma = out(c);
        Twin dBeta = out(c);
        for (boolean accumulate : new boolean[] {false, true}) {
            for (Backend be : new Backend[] {cpu, gpu}) {
                boolean g = be == gpu;
                be.batchNormBackward(pick(dx, g), pick(dGamma, g), pick(dBeta, g), pick(dy, g), pick(x, g),
                        pick(gamma, g), pick(saveMean, g), pick(saveInvStd, g), eps, accumulate);
            }
            String pass = what + (accumulate ? " accumulated" : "");
            closeSums(pass + " dx", dx);
            closeSums(pass + " dGamma", dGamma);
            closeSums(pass + " dBeta", dBeta);
        }
    }

    // ---- pooling ------------------------------------------------------------------------

    @Test
    void poolingOnRandomGeometries() {
        // Continuous random inputs have no ties, so max backward routes to the same positions.
        Rand rand = new Rand(21);
        for (int trial = 0; trial < 12; trial++) {
            int window = rand.nextInt(1, 4);
            Pool2dParams p = Pool2dParams.of(window, rand.nextInt(1, 3), rand.nextInt(0, window / 2));
            int n = rand.nextInt(1, 3);
            int c = rand.nextInt(1, 5);
            int h = rand.nextInt(window, 13);
            int w = rand.nextInt(window, 13);
            Shape ys = p.outputShape("test", Shape.of(n, c, h, w));
            for (PoolMode mode : PoolMode.values()) {
                String what = "trial " + trial + " " + mode + " " + p + " x=(" + n + "," + c + "," + h + "," + w + ")";
                Twin x = twin(rand.uniform(n * c * h * w, -1, 1), n, c, h, w);
                Twin y = out(ys.dims());
                Twin dy = twin(rand.uniform(ys.size(), -1, 1), ys.dims());
                Twin dx = out(n, c, h, w);
                cpu.pool2dForward(mode, y.c(), x.c(), p);
                gpu.pool2dForward(mode, y.g(), x.g(), p);
                cpu.pool2dBackward(mode, dx.c(), dy.c(), x.c(), y.c(), p);
                gpu.pool2dBackward(mode, dx.g(), dy.g(), x.g(), y.g(), p);
                // Max forward selects a value: exact. Averages and overlapping-window gradient
                // sums are a few float roundings in another order.
                close(what + " forward", y, mode == PoolMode.MAX ? 0 : 1e-7, mode == PoolMode.MAX ? 0 : 1e-6);
                close(what + " backward", dx, 1e-7, 1e-6);
            }
        }
    }

    // ---- activations, softmax -----------------------------------------------------------

    @Test
    void activationsForwardAndBackward() {
        Rand rand = new Rand(31);
        int n = 10007; // not a multiple of the block size: the last block is partly idle
        for (Activation f : Activation.values()) {
            Twin x = twin(rand.uniform(n, -6, 6), n);
            Twin y = out(n);
            Twin dy = twin(rand.uniform(n, -1, 1), n);
            Twin dx = out(n);
            cpu.activationForward(f, y.c(), x.c());
            gpu.activationForward(f, y.g(), x.g());
            cpu.activationBackward(f, dx.c(), dy.c(), y.c());
            gpu.activationBackward(f, dx.g(), dy.g(), y.g());
            if (f == Activation.RELU) {
                bits("relu forward", y);
            } else {
                close(f + " forward", y, 0, ULP_RTOL);
            }
            // Same float operations on the same y, whichever backend made y: compare from the CPU's y.
            gpu.upload(y.g(), y.c().toArray());
            gpu.activationBackward(f, dx.g(), dy.g(), y.g());
            bits(f + " backward", dx);
            // In place: y may be x, dx may be dy.
            gpu.activationForward(f, x.g(), x.g());
            cpu.activationForward(f, x.c(), x.c());
            close(f + " forward in place", x, 0, f == Activation.RELU ? 0 : ULP_RTOL);
        }
    }

    @Test
    void softmaxAndLogSoftmax() {
        Rand rand = new Rand(32);
        int[][] shapes = {{1, 1}, {7, 10}, {64, 10}, {5, 3, 4, 4}, {3, 1000}};
        for (int[] dims : shapes) {
            int size = Shape.of(dims).size();
            String what = Shape.of(dims).toString();
            Twin x = twin(rand.uniform(size, -20, 20), dims);
            Twin y = out(dims);
            Twin ly = out(dims);
            Twin dy = twin(rand.uniform(size, -1, 1), dims);
            Twin dx = out(dims);
            for (Backend be : new Backend[] {cpu, gpu}) {
                boolean g = be == gpu;
                be.softmaxForward(pick(y, g), pick(x, g));
                be.logSoftmaxForward(pick(ly, g), pick(x, g));
            }
            close(what + " softmax", y, 1e-7, 1e-5);
            close(what + " log-softmax", ly, 1e-6, 1e-6);
            gpu.upload(y.g(), y.c().toArray()); // backward from the same y on both sides
            cpu.softmaxBackward(dx.c(), dy.c(), y.c());
            gpu.softmaxBackward(dx.g(), dy.g(), y.g());
            close(what + " softmax backward", dx, 1e-7, 1e-5);
        }
    }

    // ---- dense --------------------------------------------------------------------------

    @Test
    void denseForwardAndBackward() {
        Rand rand = new Rand(41);
        int[][] cases = {{1, 1, 1}, {3, 5, 4}, {64, 784, 10}, {17, 3136, 1024}, {2, 33, 65}};
        for (int[] cs : cases) {
            int n = cs[0];
            int in = cs[1];
            int out = cs[2];
            String what = "N=" + n + " in=" + in + " out=" + out;
            Twin x = twin(rand.uniform(n * in, -1, 1), n, in);
            Twin w = twin(rand.uniform(out * in, -1, 1), out, in);
            Twin b = twin(rand.uniform(out, -1, 1), out);
            Twin dy = twin(rand.uniform(n * out, -1, 1), n, out);
            Twin y = out(n, out);
            Twin dx = out(n, in);
            Twin dw = out(out, in);
            Twin db = out(out);
            for (Backend be : new Backend[] {cpu, gpu}) {
                boolean g = be == gpu;
                be.denseForward(pick(y, g), pick(x, g), pick(w, g), pick(b, g));
                be.denseBackward(pick(dx, g), pick(dw, g), pick(db, g), pick(dy, g), pick(x, g), pick(w, g), false);
            }
            closeSums(what + " y", y);
            closeSums(what + " dx", dx);
            closeSums(what + " dw", dw);
            closeSums(what + " db", db);
        }
    }

    @Test
    void denseOnImagesWithoutBiasOrDx() {
        // x: (N, C, H, W) flattened to (N, C·H·W); the optional outputs skipped.
        Rand rand = new Rand(42);
        Twin x = twin(rand.uniform(4 * 2 * 3 * 3, -1, 1), 4, 2, 3, 3);
        Twin w = twin(rand.uniform(5 * 18, -1, 1), 5, 18);
        Twin dy = twin(rand.uniform(4 * 5, -1, 1), 4, 5);
        Twin y = out(4, 5);
        Twin dw = out(5, 18);
        for (Backend be : new Backend[] {cpu, gpu}) {
            boolean g = be == gpu;
            be.denseForward(pick(y, g), pick(x, g), pick(w, g), null);
            be.denseBackward(null, pick(dw, g), null, pick(dy, g), pick(x, g), pick(w, g), false);
        }
        closeSums("y", y);
        closeSums("dw", dw);
    }

    // ---- losses -------------------------------------------------------------------------

    @Test
    void lossesAndTheirGradients() {
        Rand rand = new Rand(51);
        for (int[] nc : new int[][] {{1, 2}, {64, 10}, {300, 7}}) {
            int n = nc[0];
            int classes = nc[1];
            String what = "N=" + n + " classes=" + classes;
            Twin z = twin(rand.uniform(n * classes, -5, 5), n, classes);
            Twin labels = twin(rand.labels(n, classes), n);
            Twin t = twin(rand.uniform(n * classes, -1, 1), n, classes);
            Twin loss = out(1);
            Twin dz = out(n, classes);
            cpu.softmaxCrossEntropy(loss.c(), dz.c(), z.c(), labels.c());
            gpu.softmaxCrossEntropy(loss.g(), dz.g(), z.g(), labels.g());
            close(what + " cross-entropy", loss, 0, ULP_RTOL);
            close(what + " cross-entropy dz", dz, 1e-12, ULP_RTOL);
            cpu.meanSquaredError(loss.c(), dz.c(), z.c(), t.c());
            gpu.meanSquaredError(loss.g(), dz.g(), z.g(), t.g());
            close(what + " mse", loss, 0, ULP_RTOL);
            close(what + " mse dp", dz, 0, ULP_RTOL);
            cpu.hingeLoss(loss.c(), dz.c(), z.c(), labels.c());
            gpu.hingeLoss(loss.g(), dz.g(), z.g(), labels.g());
            close(what + " hinge", loss, 0, ULP_RTOL);
            close(what + " hinge dz", dz, 0, ULP_RTOL);
        }
    }

    // ---- dropout ------------------------------------------------------------------------

    @Test
    void dropoutMasksAreBitIdentical() {
        Rand rand = new Rand(61);
        int[] sizes = {1, 3, 4, 1001, 100_003};
        float[] probabilities = {0f, 0.04f, 0.5f, 0.9f};
        for (int n : sizes) {
            for (float p : probabilities) {
                long seed = 0x0123456789ABCDEFL + n;
                Twin x = twin(rand.uniform(n, -2, 2), n);
                Twin y = out(n);
                cpu.dropoutForward(y.c(), x.c(), p, seed, 7, 3, 0);
                gpu.dropoutForward(y.g(), x.g(), p, seed, 7, 3, 0);
                bits("forward n=" + n + " p=" + p, y);
                cpu.dropoutBackward(y.c(), x.c(), p, seed, 8, 4, 0);
                gpu.dropoutBackward(y.g(), x.g(), p, seed, 8, 4, 0);
                bits("backward n=" + n + " p=" + p, y);
                cpu.dropoutForward(x.c(), x.c(), p, -seed, 1, Integer.MAX_VALUE, 0);
                gpu.dropoutForward(x.g(), x.g(), p, -seed, 1, Integer.MAX_VALUE, 0);
                bits("in place n=" + n + " p=" + p, x);
            }
        }
    }

    // ---- optimizers ---------------------------------------------------------------------

    @Test
    void sgdStepsAreBitIdentical() {
        Rand rand = new Rand(71);
        int n = 5000;
        SgdParams[] variants = {new SgdParams(0.1f, 0, 0, false), new SgdParams(0.05f, 0.9f, 1e-4f, false),
            new SgdParams(0.01f, 0.9f, 5e-4f, true)};
        for (SgdParams p : variants) {
            Twin w = twin(rand.uniform(n, -1, 1), n);
            Twin v = out(n);
            cpu.fill(v.c(), 0);
            gpu.fill(v.g(), 0);
            for (int step = 0; step < 3; step++) {
                Twin dw = twin(rand.uniform(n, -1, 1), n);
                cpu.sgdUpdate(w.c(), dw.c(), v.c(), p);
                gpu.sgdUpdate(w.g(), dw.g(), v.g(), p);
            }
            bits(p + " w", w);
            if (p.momentum() != 0) {
                bits(p + " velocity", v);
            }
        }
    }

    @Test
    void adamStepsAreBitIdentical() {
        Rand rand = new Rand(72);
        int n = 5000;
        for (boolean decoupled : new boolean[] {false, true}) {
            Twin w = twin(rand.uniform(n, -1, 1), n);
            Twin m = out(n);
            Twin v = out(n);
            for (Twin t : new Twin[] {m, v}) {
                cpu.fill(t.c(), 0);
                gpu.fill(t.g(), 0);
            }
            for (int step = 1; step <= 3; step++) {
                AdamParams p = new AdamParams(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, step);
                Twin dw = twin(rand.uniform(n, -1, 1), n);
                cpu.adamUpdate(w.c(), dw.c(), m.c(), v.c(), p);
                gpu.adamUpdate(w.g(), dw.g(), m.g(), v.g(), p);
            }
            String what = decoupled ? "AdamW" : "Adam";
            bits(what + " w", w);
            bits(what + " m", m);
            bits(what + " v", v);
        }
    }

    // ---- helpers and memory ops ---------------------------------------------------------

    @Test
    void helpersAndMemoryOps() {
        Rand rand = new Rand(81);
        int n = 70_001;
        Twin a = twin(rand.uniform(n, -3, 3), n);
        Twin b = twin(rand.uniform(n, -3, 3), n);
        Twin y = out(n);
        cpu.add(y.c(), a.c(), b.c());
        gpu.add(y.g(), a.g(), b.g());
        bits("add", y);
        cpu.scale(y.c(), y.c(), -0.37f);
        gpu.scale(y.g(), y.g(), -0.37f);
        bits("scale in place", y);
        cpu.axpy(y.c(), 1.7f, a.c());
        gpu.axpy(y.g(), 1.7f, a.g());
        bits("axpy", y);
        Twin s = out(1);
        cpu.sum(s.c(), y.c());
        gpu.sum(s.g(), y.g());
        close("sum", s, 1e-6, ULP_RTOL);
        cpu.copy(y.c(), b.c());
        gpu.copy(y.g(), b.g());
        bits("copy", y);
        cpu.fill(y.c(), -2.5f);
        gpu.fill(y.g(), -2.5f);
        bits("fill", y);

        float[] scores = rand.uniform(50 * 13, -1, 1);
        scores[13 * 4 + 2] = scores[13 * 4 + 9] = 5f; // a tie: the first index wins
        Twin x = twin(scores, 50, 13);
        Twin idx = out(50);
        cpu.argmax(idx.c(), x.c());
        gpu.argmax(idx.g(), x.g());
        bits("argmax", idx);
        assertEquals(2f, idx.g().toArray()[4], "argmax takes the first of tied maxima");
    }

    @Test
    void concatForwardAndBackwardMoveTheSameBits() {
        Rand rand = new Rand(83);
        // Maps (pitched copies of whole items' slices) and flat features; the middle gradient skipped.
        for (int[] rest : new int[][] {{9, 11}, {}}) {
            int[] channels = {3, 16, 5};
            List<Twin> xs = new ArrayList<>();
            for (int c : channels) {
                int[] dims = withRest(7, c, rest);
                xs.add(twin(rand.uniform(Shape.of(dims).size(), -1, 1), dims));
            }
            int[] all = withRest(7, 24, rest);
            Twin y = out(all);
            cpu.concatForward(y.c(), xs.stream().map(Twin::c).toList());
            gpu.concatForward(y.g(), xs.stream().map(Twin::g).toList());
            bits("concatForward " + Shape.of(all), y);

            Twin dy = twin(rand.uniform(Shape.of(all).size(), -1, 1), all);
            Twin dx0 = out(withRest(7, 3, rest));
            Twin dx2 = out(withRest(7, 5, rest));
            cpu.concatBackward(java.util.Arrays.asList(dx0.c(), null, dx2.c()), dy.c(), channels);
            gpu.concatBackward(java.util.Arrays.asList(dx0.g(), null, dx2.g()), dy.g(), channels);
            bits("concatBackward dx0 " + Shape.of(all), dx0);
            bits("concatBackward dx2 " + Shape.of(all), dx2);
        }
    }

    private static int[] withRest(int n, int c, int[] rest) {
        int[] d = new int[2 + rest.length];
        d[0] = n;
        d[1] = c;
        System.arraycopy(rest, 0, d, 2, rest.length);
        return d;
    }

    @Test
    void largeTransfersRoundTripThroughTheStagingBuffers() {
        // More than two 4 MiB pinned chunks, and a length that ends mid-chunk.
        Rand rand = new Rand(82);
        float[] data = rand.uniform(2_500_001, -1, 1);
        Tensor t = keep(gpu.upload(data, Shape.of(data.length)));
        assertArrayEquals(data, gpu.download(t));
    }

    // ---- a few training steps in lock-step ----------------------------------------------

    @Test
    void threeTrainingStepsInLockStep() {
        // conv 3×3 (4 filters) + ReLU → max-pool 2 → dense 10 → softmax cross-entropy, SGD with
        // momentum: weights after three steps agree to the tolerance of their sums of products.
        Rand rand = new Rand(91);
        int n = 16;
        Twin w1 = twin(rand.uniform(4 * 1 * 3 * 3, -0.5, 0.5), 4, 1, 3, 3);
        Twin b1 = twin(new float[4], 4);
        Twin w2 = twin(rand.uniform(10 * 4 * 5 * 5, -0.2, 0.2), 10, 100);
        Twin b2 = twin(new float[10], 10);
        Twin[] params = {w1, b1, w2, b2};
        Twin[] velocity = new Twin[params.length];
        Twin[] grads = new Twin[params.length];
        for (int i = 0; i < params.length; i++) {
            velocity[i] = out(params[i].c().shape().dims());
            grads[i] = out(params[i].c().shape().dims());
            cpu.fill(velocity[i].c(), 0);
            gpu.fill(velocity[i].g(), 0);
        }
        Conv2dParams cp = Conv2dParams.of(1, 1, 1);
        Pool2dParams pp = Pool2dParams.of(2, 2, 0);
        SgdParams sgd = new SgdParams(0.1f, 0.9f, 0, false);
        Twin a1 = out(n, 4, 10, 10);
        Twin p1 = out(n, 4, 5, 5);
        Twin z = out(n, 10);
        Twin loss = out(1);
        Twin dz = out(n, 10);
        Twin dp1 = out(n, 4, 5, 5);
        Twin da1 = out(n, 4, 10, 10);
        Twin dx = out(n, 1, 10, 10);
        for (int step = 0; step < 3; step++) {
            Twin x = twin(rand.uniform(n * 100, 0, 1), n, 1, 10, 10);
            Twin labels = twin(rand.labels(n, 10), n);
            for (Backend be : new Backend[] {cpu, gpu}) {
                boolean g = be == gpu;
                be.conv2dForward(pick(a1, g), pick(x, g), pick(w1, g), pick(b1, g), cp);
                be.activationForward(Activation.RELU, pick(a1, g), pick(a1, g));
                be.pool2dForward(PoolMode.MAX, pick(p1, g), pick(a1, g), pp);
                be.denseForward(pick(z, g), pick(p1, g), pick(w2, g), pick(b2, g));
                be.softmaxCrossEntropy(pick(loss, g), pick(dz, g), pick(z, g), pick(labels, g));
                be.denseBackward(pick(dp1, g), pick(grads[2], g), pick(grads[3], g), pick(dz, g), pick(p1, g),
                        pick(w2, g), false);
                be.pool2dBackward(PoolMode.MAX, pick(da1, g), pick(dp1, g), pick(a1, g), pick(p1, g), pp);
                be.activationBackward(Activation.RELU, pick(da1, g), pick(da1, g), pick(a1, g));
                be.conv2dBackwardFilter(pick(grads[0], g), pick(x, g), pick(da1, g), cp, false);
                be.conv2dBackwardBias(pick(grads[1], g), pick(da1, g), false);
                be.conv2dBackwardData(pick(dx, g), pick(da1, g), pick(w1, g), cp);
                for (int i = 0; i < params.length; i++) {
                    be.sgdUpdate(pick(params[i], g), pick(grads[i], g), pick(velocity[i], g), sgd);
                }
            }
            close("step " + step + " loss", loss, 1e-6, 1e-5);
        }
        for (int i = 0; i < params.length; i++) {
            closeSums("parameter " + i + " after 3 steps", params[i]);
        }
    }

    @Test
    void steadyLoopAllocatesNoNewDeviceMemory() {
        // Each step allocates and frees the same shapes; after the first, the cache serves them all.
        long before = -1;
        for (int step = 0; step < 4; step++) {
            try (Tensor a = gpu.allocate(Shape.of(64, 32, 28, 28));
                    Tensor b = gpu.allocate(Shape.of(64, 10));
                    Tensor c = gpu.allocate(Shape.of(3))) {
                gpu.fill(a, 1f);
                gpu.scale(b, b, 2f);
                gpu.fill(c, -1f);
            }
            if (step == 0) {
                before = gpu.deviceAllocations();
            }
        }
        assertEquals(before, gpu.deviceAllocations(), "cuMemAlloc calls after the first step");
        assertTrue(gpu.cachedBytes() >= 64L * 32 * 28 * 28 * 4, "freed blocks stay cached for reuse");
    }
}
