package dev.receptive.backend.cpu;

import dev.receptive.backend.Activation;
import dev.receptive.backend.AdamParams;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.backend.SgdParams;
import dev.receptive.tensor.Shape;

/**
 * The reference kernels: plain Java loops, one small class per op family ({@link CpuConv},
 * {@link CpuDense}, {@link CpuPool}, {@link CpuBatchNorm}, {@link CpuPointwise}, {@link CpuLosses},
 * {@link CpuDropout}, {@link CpuOptimizers}), each reading like its formula. They run on every JVM;
 * {@link VectorApiKernels} extends them and falls back to them wherever it has nothing faster.
 */
class ScalarKernels implements CpuKernels {
    final CpuParallel par;
    private final CpuConv conv;
    private final CpuDense dense;

    ScalarKernels(CpuParallel par) {
        this.par = par;
        this.conv = new CpuConv(par);
        this.dense = new CpuDense(par);
    }

    @Override
    public String description() {
        return "scalar";
    }

    @Override
    public void conv2dForward(float[] y, float[] x, float[] w, float[] b, Shape xs, Shape ws, Shape ys,
            Conv2dParams p) {
        conv.forward(y, x, w, b, xs, ws, ys, p);
    }

    @Override
    public void conv2dBackwardData(float[] dx, float[] dy, float[] w, Shape xs, Shape ws, Shape ys, Conv2dParams p) {
        conv.backwardData(dx, dy, w, xs, ws, ys, p);
    }

    @Override
    public void conv2dBackwardFilter(float[] dw, float[] x, float[] dy, Shape xs, Shape ws, Shape ys, Conv2dParams p,
            boolean accumulate) {
        conv.backwardFilter(dw, x, dy, xs, ws, ys, p, accumulate);
    }

    @Override
    public void conv2dBackwardBias(float[] db, float[] dy, Shape ys, boolean accumulate) {
        conv.backwardBias(db, dy, ys, accumulate);
    }

    @Override
    public void denseForward(float[] y, float[] x, float[] w, float[] b, int n, int in, int out) {
        dense.forward(y, x, w, b, n, in, out);
    }

    @Override
    public void denseBackward(float[] dx, float[] dw, float[] db, float[] dy, float[] x, float[] w, int n, int in,
            int out, boolean accumulate) {
        dense.backward(dx, dw, db, dy, x, w, n, in, out, accumulate);
    }

    @Override
    public void pool2dForward(PoolMode mode, float[] y, float[] x, Shape xs, Shape ys, Pool2dParams p) {
        CpuPool.forward(par, mode, y, x, xs, ys, p);
    }

    @Override
    public void pool2dBackward(PoolMode mode, float[] dx, float[] dy, float[] x, float[] y, Shape xs, Shape ys,
            Pool2dParams p) {
        CpuPool.backward(par, mode, dx, dy, x, y, xs, ys, p, null);
    }

    @Override
    public void batchNormForwardTraining(float[] y, float[] x, float[] shortcut, float[] gamma, float[] beta,
            float[] runningMean, float[] runningVar, float[] saveMean, float[] saveInvStd, int n, int c, int s,
            float momentum, float eps, boolean relu) {
        CpuBatchNorm.forwardTraining(par, y, x, shortcut, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, n,
                c, s, momentum, eps, relu);
    }

    @Override
    public void batchNormForwardInference(float[] y, float[] x, float[] shortcut, float[] gamma, float[] beta,
            float[] runningMean, float[] runningVar, int n, int c, int s, float eps, boolean relu) {
        CpuBatchNorm.forwardInference(par, y, x, shortcut, gamma, beta, runningMean, runningVar, n, c, s, eps, relu);
    }

    @Override
    public void batchNormBackward(float[] dx, float[] dGamma, float[] dBeta, float[] dy, float[] x, float[] gamma,
            float[] saveMean, float[] saveInvStd, int n, int c, int s, boolean accumulate) {
        CpuBatchNorm.backward(par, dx, dGamma, dBeta, dy, x, gamma, saveMean, saveInvStd, n, c, s, accumulate);
    }

    @Override
    public void activationForward(Activation f, float[] y, float[] x, int count) {
        CpuPointwise.activationForward(par, f, y, x, count);
    }

    @Override
    public void activationBackward(Activation f, float[] dx, float[] dy, float[] y, int count) {
        CpuPointwise.activationBackward(par, f, dx, dy, y, count);
    }

    @Override
    public void softmaxForward(float[] y, float[] x, int rows, int cols, boolean log) {
        CpuPointwise.softmaxForward(par, y, x, rows, cols, log);
    }

    @Override
    public void softmaxBackward(float[] dx, float[] dy, float[] y, int rows, int cols) {
        CpuPointwise.softmaxBackward(par, dx, dy, y, rows, cols);
    }

    @Override
    public float softmaxCrossEntropy(float[] dz, float[] z, float[] labels, int n, int classes) {
        return CpuLosses.softmaxCrossEntropy(dz, z, labels, n, classes);
    }

    @Override
    public float meanSquaredError(float[] dp, float[] p, float[] t, int size) {
        return CpuLosses.meanSquaredError(dp, p, t, size);
    }

    @Override
    public float hingeLoss(float[] dz, float[] z, float[] labels, int n, int classes) {
        return CpuLosses.hinge(dz, z, labels, n, classes);
    }

    @Override
    public void dropout(float[] y, float[] x, int count, float p, long seed, int stream, int step, long offset) {
        CpuDropout.apply(par, y, x, count, p, seed, stream, step, offset);
    }

    @Override
    public void sgdUpdate(float[] w, float[] dw, float[] velocity, int count, SgdParams p) {
        CpuOptimizers.sgd(par, w, dw, velocity, count, p);
    }

    @Override
    public void adamUpdate(float[] w, float[] dw, float[] m, float[] v, int count, AdamParams p) {
        CpuOptimizers.adam(par, w, dw, m, v, count, p);
    }

    @Override
    public void copyRows(float[] dst, int dstRow, int dstAt, float[] src, int srcRow, int srcAt, int width, int rows) {
        CpuPointwise.copyRows(dst, dstRow, dstAt, src, srcRow, srcAt, width, rows);
    }

    @Override
    public void add(float[] y, float[] a, float[] b, int count) {
        CpuPointwise.add(par, y, a, b, count);
    }

    @Override
    public void scale(float[] y, float[] x, float alpha, int count) {
        CpuPointwise.scale(par, y, x, alpha, count);
    }

    @Override
    public void axpy(float[] y, float alpha, float[] x, int count) {
        CpuPointwise.axpy(par, y, alpha, x, count);
    }

    @Override
    public void argmax(float[] out, float[] x, int rows, int cols) {
        CpuPointwise.argmax(out, x, rows, cols);
    }

    @Override
    public float sum(float[] x, int count) {
        return CpuPointwise.sum(x, count);
    }
}
