package dev.receptive.backend.cpu;

import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.tensor.Shape;

/** Max and average pooling over NCHW planes. */
final class CpuPool {
    private CpuPool() {
    }

    // x: (N, C, H, W); y: (N, C, P, Q)
    static void forward(CpuParallel par, PoolMode mode, float[] y, float[] x, Shape xs, Shape ys, Pool2dParams p) {
        throw new UnsupportedOperationException("TODO");
    }

    // dx, x: (N, C, H, W); dy, y: (N, C, P, Q)
    static void backward(CpuParallel par, PoolMode mode, float[] dx, float[] dy, float[] x, float[] y, Shape xs,
            Shape ys, Pool2dParams p) {
        throw new UnsupportedOperationException("TODO");
    }
}
