package dev.receptive.backend.cpu;

/** Inverted dropout with the Philox mask of DESIGN (see dev.receptive.backend.Philox). */
final class CpuDropout {
    private CpuDropout() {
    }

    static void apply(CpuParallel par, float[] y, float[] x, int n, float p, long seed, int stream, int step) {
        throw new UnsupportedOperationException("TODO");
    }
}
