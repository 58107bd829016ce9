package dev.receptive.backend.cpu;

/** Losses fused with their gradients; each returns the loss and writes the gradient when asked. */
final class CpuLosses {
    private CpuLosses() {
    }

    // z, dz: (n, classes); labels: (n)
    static float softmaxCrossEntropy(float[] dz, float[] z, float[] labels, int n, int classes) {
        throw new UnsupportedOperationException("TODO");
    }

    static float meanSquaredError(float[] dp, float[] p, float[] t, int size) {
        throw new UnsupportedOperationException("TODO");
    }

    static float hinge(float[] dz, float[] z, float[] labels, int n, int classes) {
        throw new UnsupportedOperationException("TODO");
    }
}
