package dev.receptive.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolContract;
import dev.receptive.backend.PoolMode;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.Rand;
import org.junit.jupiter.api.Test;

class CpuPoolTest extends PoolContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend();
    }

    @Test
    void twoByTwoMaxPoolingMatchesAWindowByWindowLoop() {
        // The CPU's straight-line 2×2 stride-2 path, on odd and even sizes (an odd last row or
        // column belongs to no window), ties (values drawn from {0, 1, 2}) and NaN.
        Rand rand = new Rand(22);
        // Rows of 37 and 64 inputs fill whole vectors of windows (16 or 8 lanes) and leave a tail.
        int[][] shapes = {{2, 3, 4, 6}, {1, 2, 5, 7}, {3, 1, 2, 3}, {1, 1, 9, 8}, {1, 2, 6, 37}, {2, 1, 4, 64}};
        for (int[] dims : shapes) {
            int n = dims[0] * dims[1];
            int h = dims[2];
            int w = dims[3];
            int outH = h / 2;
            int outW = w / 2;
            float[] x = new float[n * h * w];
            for (int i = 0; i < x.length; i++) {
                x[i] = rand.nextInt(0, 2);
            }
            x[rand.nextInt(0, x.length - 1)] = Float.NaN;
            float[] dy = rand.uniform(n * outH * outW, -1, 1);
            float[] y = new float[dy.length];
            float[] dx = new float[x.length];
            for (int plane = 0; plane < n; plane++) {
                for (int p = 0; p < outH; p++) {
                    for (int q = 0; q < outW; q++) {
                        int o = (plane * outH + p) * outW + q;
                        // The maximum, or NaN when the window holds one; dy goes to the first
                        // (row-major) element equal to it, or to the first NaN.
                        float max = Float.NEGATIVE_INFINITY;
                        for (int i = 0; i < 4; i++) {
                            max = Math.max(max, x[(plane * h + 2 * p + i / 2) * w + 2 * q + i % 2]);
                        }
                        int first = -1;
                        for (int i = 3; i >= 0; i--) {
                            int at = (plane * h + 2 * p + i / 2) * w + 2 * q + i % 2;
                            if (x[at] == max || (Float.isNaN(max) && Float.isNaN(x[at]))) {
                                first = at;
                            }
                        }
                        y[o] = max;
                        dx[first] = dy[o];
                    }
                }
            }
            Tensor xt = t(x, dims);
            Tensor yt = zeros(dims[0], dims[1], outH, outW);
            backend.pool2dForward(PoolMode.MAX, yt, xt, Pool2dParams.of(2, 2, 0));
            assertArrayEquals(y, get(yt), "y " + java.util.Arrays.toString(dims));
            Tensor dxt = zeros(dims);
            backend.fill(dxt, 7f);
            backend.pool2dBackward(PoolMode.MAX, dxt, t(dy, dims[0], dims[1], outH, outW), xt, yt,
                    Pool2dParams.of(2, 2, 0));
            assertArrayEquals(dx, get(dxt), "dx " + java.util.Arrays.toString(dims));
        }
    }

    @Test
    void maxBackwardRejectsAYThatIsNotTheWindowMaximum() {
        // The CPU routes dy to the first input equal to y, so a y from another x cannot be routed.
        Tensor x = t(new float[] {1, 2, 3, 4}, 1, 1, 2, 2);
        Tensor y = t(new float[] {5}, 1, 1, 1, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.pool2dBackward(PoolMode.MAX, zeros(1, 1, 2, 2), y, x, y, Pool2dParams.of(2, 2, 0)));
        assertTrue(e.getMessage().contains("pool2dBackward") && e.getMessage().contains("5.0"), e.getMessage());

        // The same in a row of 16 windows (a whole vector of them on the Vector API path).
        Tensor wide = zeros(1, 1, 2, 32);
        float[] ys = new float[16];
        ys[9] = 5;
        Tensor yWide = t(ys, 1, 1, 1, 16);
        e = assertThrows(IllegalArgumentException.class, () -> backend.pool2dBackward(PoolMode.MAX, zeros(1, 1, 2, 32),
                yWide, wide, yWide, Pool2dParams.of(2, 2, 0)));
        assertTrue(e.getMessage().contains("5.0"), e.getMessage());
    }

    @Test
    void maxPoolingPropagatesNaNAndRoutesItsGradientThere() {
        // Like PyTorch: a NaN in a window makes the output NaN, so a diverged model shows it.
        Tensor x = t(new float[] {1, Float.NaN, 3, 4}, 1, 1, 2, 2);
        Tensor y = zeros(1, 1, 1, 1);
        Pool2dParams p = Pool2dParams.of(2, 2, 0);
        backend.pool2dForward(PoolMode.MAX, y, x, p);
        assertTrue(Float.isNaN(get(y)[0]), "max over a NaN");
        Tensor dx = zeros(1, 1, 2, 2);
        backend.pool2dBackward(PoolMode.MAX, dx, t(new float[] {2}, 1, 1, 1, 1), x, y, p);
        Close.assertClose("dx", new float[] {0, 2, 0, 0}, get(dx), 0, 0);
    }
}
