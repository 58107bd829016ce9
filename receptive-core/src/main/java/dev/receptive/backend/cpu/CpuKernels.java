package dev.receptive.backend.cpu;

import dev.receptive.backend.Activation;
import dev.receptive.backend.AdamParams;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.backend.SgdParams;
import dev.receptive.tensor.Shape;
import java.util.Optional;

/**
 * Every op the CPU backend computes, on the float arrays behind its tensors, with the shapes
 * already checked by {@link dev.receptive.backend.AbstractBackend}. Two implementations, chosen once
 * per backend at start-up: {@link ScalarKernels}, the reference that reads like the formulas, and
 * {@link VectorApiKernels}, which runs the Vector API kernels where they apply and the reference
 * elsewhere. The naive loops of the test tree check the reference; the reference checks the fast
 * path. Each implementation splits work over one {@link CpuParallel}, with results that do not
 * depend on its thread count.
 *
 * <p>Arguments follow the backend's ops: outputs first, gradients dx, dw, db; n items, shapes as
 * their comments say. The javadoc of {@link dev.receptive.backend.Backend} gives each formula.
 */
interface CpuKernels {

    /** The kernels this JVM runs best: the Vector API ones when {@link VectorKernels#load} has them. */
    static CpuKernels choose(CpuParallel par, Optional<VectorKernels> vector) {
        return vector.<CpuKernels>map(v -> new VectorApiKernels(par, v)).orElseGet(() -> new ScalarKernels(par));
    }

    /** e.g. "Vector API, 512-bit" or "scalar". */
    String description();

    // y: (N, K, P, Q) = conv(x: (N, C, H, W), w: (K, C, R, S)) + b: (K); b may be null
    void conv2dForward(float[] y, float[] x, float[] w, float[] b, Shape xs, Shape ws, Shape ys, Conv2dParams p);

    // y = max(0, conv(x, w) + b), as conv2dForward then the ReLU (the reference composes them)
    default void conv2dBiasReluForward(float[] y, float[] x, float[] w, float[] b, Shape xs, Shape ws, Shape ys,
            Conv2dParams p) {
        conv2dForward(y, x, w, b, xs, ws, ys, p);
        activationForward(Activation.RELU, y, y, ys.size());
    }

    // dx: (N, C, H, W) from dy: (N, K, P, Q) and w: (K, C, R, S)
    void conv2dBackwardData(float[] dx, float[] dy, float[] w, Shape xs, Shape ws, Shape ys, Conv2dParams p);

    // dw: (K, C, R, S) (+)= Σ_n dy[n] · col[n]ᵀ
    void conv2dBackwardFilter(float[] dw, float[] x, float[] dy, Shape xs, Shape ws, Shape ys, Conv2dParams p,
            boolean accumulate);

    // db: (K) (+)= Σ_{n,p,q} dy: (N, K, P, Q)
    void conv2dBackwardBias(float[] db, float[] dy, Shape ys, boolean accumulate);

    // y: (n, out) = x: (n, in) · wᵀ + b; b may be null
    void denseForward(float[] y, float[] x, float[] w, float[] b, int n, int in, int out);

    // y = max(0, x · wᵀ + b), as denseForward then the ReLU (the reference composes them)
    default void denseBiasReluForward(float[] y, float[] x, float[] w, float[] b, int n, int in, int out) {
        denseForward(y, x, w, b, n, in, out);
        activationForward(Activation.RELU, y, y, n * out);
    }

    // dx: (n, in) = dy · w (skipped when null); dw: (out, in) (+)= dyᵀ · x; db: (out) (+)= Σ_n dy (skipped when null)
    void denseBackward(float[] dx, float[] dw, float[] db, float[] dy, float[] x, float[] w, int n, int in, int out,
            boolean accumulate);

    // x: (N, C, H, W); y: (N, C, P, Q)
    void pool2dForward(PoolMode mode, float[] y, float[] x, Shape xs, Shape ys, Pool2dParams p);

    // dx, x: (N, C, H, W); dy, y: (N, C, P, Q)
    void pool2dBackward(PoolMode mode, float[] dx, float[] dy, float[] x, float[] y, Shape xs, Shape ys,
            Pool2dParams p);

    // y, x, shortcut: (n, c, s); gamma, beta, running*, save*: (c); then y += shortcut unless it is null,
    // then y = max(y, 0) with relu
    void batchNormForwardTraining(float[] y, float[] x, float[] shortcut, float[] gamma, float[] beta,
            float[] runningMean, float[] runningVar, float[] saveMean, float[] saveInvStd, int n, int c, int s,
            float momentum, float eps, boolean relu);

    // y, x, shortcut: (n, c, s); gamma, beta, running*: (c); then y += shortcut unless it is null, then
    // y = max(y, 0) with relu
    void batchNormForwardInference(float[] y, float[] x, float[] shortcut, float[] gamma, float[] beta,
            float[] runningMean, float[] runningVar, int n, int c, int s, float eps, boolean relu);

    // dx, dy, x: (n, c, s); dGamma, dBeta, gamma, save*: (c)
    void batchNormBackward(float[] dx, float[] dGamma, float[] dBeta, float[] dy, float[] x, float[] gamma,
            float[] saveMean, float[] saveInvStd, int n, int c, int s, boolean accumulate);

    // y = f(x), count elements; y may be x
    void activationForward(Activation f, float[] y, float[] x, int count);

    // dx = dy · f'(x) through y = f(x), count elements; dx may be dy
    void activationBackward(Activation f, float[] dx, float[] dy, float[] y, int count);

    // y, x: (rows, cols); softmax or log-softmax of each row
    void softmaxForward(float[] y, float[] x, int rows, int cols, boolean log);

    // dx, dy, y: (rows, cols)
    void softmaxBackward(float[] dx, float[] dy, float[] y, int rows, int cols);

    // returns the loss; dz: (n, classes) or null; z: (n, classes); labels: (n)
    float softmaxCrossEntropy(float[] dz, float[] z, float[] labels, int n, int classes);

    // returns the loss; dp (or null), p, t: size elements
    float meanSquaredError(float[] dp, float[] p, float[] t, int size);

    // returns the loss; dz: (n, classes) or null; z: (n, classes); labels: (n)
    float hingeLoss(float[] dz, float[] z, float[] labels, int n, int classes);

    // y, x: count elements; y may be x; element i draws the number of index offset + i
    void dropout(float[] y, float[] x, int count, float p, long seed, int stream, int step, long offset);

    // w, dw, velocity: count elements; velocity is null exactly when momentum is 0
    void sgdUpdate(float[] w, float[] dw, float[] velocity, int count, SgdParams p);

    // w, dw, m, v: count elements
    void adamUpdate(float[] w, float[] dw, float[] m, float[] v, int count, AdamParams p);

    // dst[i·dstRow + dstAt + j] = src[i·srcRow + srcAt + j] for i < rows, j < width: one input's
    // slice of a concatenation along dimension 1 (forward), or the gradient of one (backward)
    void copyRows(float[] dst, int dstRow, int dstAt, float[] src, int srcRow, int srcAt, int width, int rows);

    // y = a + b, count elements; y may be a or b
    void add(float[] y, float[] a, float[] b, int count);

    // y = alpha·x, count elements; y may be x
    void scale(float[] y, float[] x, float alpha, int count);

    // y += alpha·x, count elements
    void axpy(float[] y, float alpha, float[] x, int count);

    // out: (rows) = the first index of each row's largest x: (rows, cols)
    void argmax(float[] out, float[] x, int rows, int cols);

    // returns Σ x over count elements
    float sum(float[] x, int count);
}
