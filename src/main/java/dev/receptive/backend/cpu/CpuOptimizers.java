package dev.receptive.backend.cpu;

import dev.receptive.backend.AdamParams;
import dev.receptive.backend.SgdParams;

/** In-place optimizer updates, elementwise, with the formulas of SgdParams and AdamParams. */
final class CpuOptimizers {
    private CpuOptimizers() {
    }

    static void sgd(CpuParallel par, float[] w, float[] dw, float[] velocity, int n, SgdParams p) {
        throw new UnsupportedOperationException("TODO");
    }

    static void adam(CpuParallel par, float[] w, float[] dw, float[] m, float[] v, int n, AdamParams p) {
        throw new UnsupportedOperationException("TODO");
    }
}
