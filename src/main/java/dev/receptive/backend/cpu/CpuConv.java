package dev.receptive.backend.cpu;

import dev.receptive.backend.Conv2dParams;
import dev.receptive.tensor.Shape;

/** 2-D convolution as im2col + GEMM. */
final class CpuConv {
    private final CpuParallel par;

    CpuConv(CpuParallel par) {
        this.par = par;
    }

    void forward(float[] y, float[] x, float[] w, float[] b, Shape xs, Shape ws, Shape ys, Conv2dParams p) {
        throw new UnsupportedOperationException("TODO");
    }

    void backwardData(float[] dx, float[] dy, float[] w, Shape xs, Shape ws, Shape ys, Conv2dParams p) {
        throw new UnsupportedOperationException("TODO");
    }

    void backwardFilter(float[] dw, float[] x, float[] dy, Shape xs, Shape ws, Shape ys, Conv2dParams p) {
        throw new UnsupportedOperationException("TODO");
    }

    void backwardBias(float[] db, float[] dy, Shape ys) {
        throw new UnsupportedOperationException("TODO");
    }
}
