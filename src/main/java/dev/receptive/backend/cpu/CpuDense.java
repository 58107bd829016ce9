package dev.receptive.backend.cpu;

/** Fully connected layer: y = x·wᵀ + b and its gradients, on the blocked GEMM. */
final class CpuDense {
    private final CpuParallel par;

    CpuDense(CpuParallel par) {
        this.par = par;
    }

    // y: (n, out); x: (n, in); w: (out, in); b: (out)
    void forward(float[] y, float[] x, float[] w, float[] b, int n, int in, int out) {
        throw new UnsupportedOperationException("TODO");
    }

    void backward(float[] dx, float[] dw, float[] db, float[] dy, float[] x, float[] w, int n, int in, int out) {
        throw new UnsupportedOperationException("TODO");
    }
}
