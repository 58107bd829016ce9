package dev.receptive.backend.cpu;

import dev.receptive.backend.Activation;
import dev.receptive.backend.AdamParams;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.tensor.Shape;

/**
 * The fast kernels: the Vector API implementation ({@link VectorKernels}, loaded reflectively) for
 * dense layers, convolutions with enough channels (the data gradient at stride 1 only), the conv bias gradient, 2×2 max-pool
 * backward, ReLU backward and Adam; the scalar reference for every other op and geometry. Memory-
 * bound ops that vectors did not speed up stay scalar (docs/benchmarks.md lists what was tried).
 */
final class VectorApiKernels extends ScalarKernels {
    private final VectorKernels vector;

    VectorApiKernels(CpuParallel par, VectorKernels vector) {
        super(par);
        this.vector = vector;
    }

    @Override
    public String description() {
        return vector.description();
    }

    @Override
    public void conv2dForward(float[] y, float[] x, float[] w, float[] b, Shape xs, Shape ws, Shape ys,
            Conv2dParams p) {
        if (!vector.conv2dForward(par, y, x, w, b, xs, ws, ys, p, false)) {
            super.conv2dForward(y, x, w, b, xs, ws, ys, p);
        }
    }

    @Override
    public void conv2dBiasReluForward(float[] y, float[] x, float[] w, float[] b, Shape xs, Shape ws, Shape ys,
            Conv2dParams p) {
        if (!vector.conv2dForward(par, y, x, w, b, xs, ws, ys, p, true)) {
            super.conv2dBiasReluForward(y, x, w, b, xs, ws, ys, p);
        }
    }

    @Override
    public void conv2dBackwardData(float[] dx, float[] dy, float[] w, Shape xs, Shape ws, Shape ys, Conv2dParams p) {
        if (!vector.conv2dBackwardData(par, dx, dy, w, xs, ws, ys, p)) {
            super.conv2dBackwardData(dx, dy, w, xs, ws, ys, p);
        }
    }

    @Override
    public void conv2dBackwardFilter(float[] dw, float[] x, float[] dy, Shape xs, Shape ws, Shape ys, Conv2dParams p,
            boolean accumulate) {
        if (!vector.conv2dBackwardFilter(par, dw, x, dy, xs, ws, ys, p, accumulate)) {
            super.conv2dBackwardFilter(dw, x, dy, xs, ws, ys, p, accumulate);
        }
    }

    @Override
    public void conv2dBackwardBias(float[] db, float[] dy, Shape ys, boolean accumulate) {
        vector.conv2dBackwardBias(par, db, dy, ys.dim(0), ys.dim(1), ys.dim(2) * ys.dim(3), accumulate);
    }

    @Override
    public void denseForward(float[] y, float[] x, float[] w, float[] b, int n, int in, int out) {
        vector.denseForward(par, y, x, w, b, n, in, out, false);
    }

    @Override
    public void denseBiasReluForward(float[] y, float[] x, float[] w, float[] b, int n, int in, int out) {
        vector.denseForward(par, y, x, w, b, n, in, out, true);
    }

    @Override
    public void denseBackward(float[] dx, float[] dw, float[] db, float[] dy, float[] x, float[] w, int n, int in,
            int out, boolean accumulate) {
        vector.denseBackward(par, dx, dw, db, dy, x, w, n, in, out, accumulate);
    }

    @Override
    public void pool2dBackward(PoolMode mode, float[] dx, float[] dy, float[] x, float[] y, Shape xs, Shape ys,
            Pool2dParams p) {
        // The scalar kernel's loop, handing the rows of 2×2 windows at stride 2 to the vector kernel.
        CpuPool.backward(par, mode, dx, dy, x, y, xs, ys, p, vector);
    }

    @Override
    public void activationBackward(Activation f, float[] dx, float[] dy, float[] y, int count) {
        if (f == Activation.RELU) {
            vector.reluBackward(par, dx, dy, y, count);
        } else {
            super.activationBackward(f, dx, dy, y, count);
        }
    }

    @Override
    public void adamUpdate(float[] w, float[] dw, float[] m, float[] v, int count, AdamParams p) {
        vector.adamUpdate(par, w, dw, m, v, count, p);
    }
}
