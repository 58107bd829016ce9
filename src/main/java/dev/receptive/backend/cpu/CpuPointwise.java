package dev.receptive.backend.cpu;

import dev.receptive.backend.Activation;

/** Elementwise ops, activations, row-wise softmax and the small helpers. */
final class CpuPointwise {
    private CpuPointwise() {
    }

    static void activationForward(CpuParallel par, Activation f, float[] y, float[] x, int n) {
        throw new UnsupportedOperationException("TODO");
    }

    static void activationBackward(CpuParallel par, Activation f, float[] dx, float[] dy, float[] y, int n) {
        throw new UnsupportedOperationException("TODO");
    }

    // x, y: (rows, cols)
    static void softmaxForward(CpuParallel par, float[] y, float[] x, int rows, int cols, boolean log) {
        throw new UnsupportedOperationException("TODO");
    }

    static void softmaxBackward(CpuParallel par, float[] dx, float[] dy, float[] y, int rows, int cols) {
        throw new UnsupportedOperationException("TODO");
    }

    static void add(CpuParallel par, float[] y, float[] a, float[] b, int n) {
        throw new UnsupportedOperationException("TODO");
    }

    static void scale(CpuParallel par, float[] y, float[] x, float alpha, int n) {
        throw new UnsupportedOperationException("TODO");
    }

    static void axpy(CpuParallel par, float[] y, float alpha, float[] x, int n) {
        throw new UnsupportedOperationException("TODO");
    }

    static void argmax(float[] out, float[] x, int rows, int cols) {
        throw new UnsupportedOperationException("TODO");
    }

    static float sum(float[] x, int n) {
        throw new UnsupportedOperationException("TODO");
    }
}
