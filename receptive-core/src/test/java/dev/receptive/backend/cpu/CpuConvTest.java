package dev.receptive.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.ConvContract;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import org.junit.jupiter.api.Test;

class CpuConvTest extends ConvContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(3);
    }

    @Test
    void convAndDenseResultsDoNotDependOnTheThreadCount() {
        Rand rand = new Rand(9);
        // batch 11 splits unevenly over 2 and 3 threads; 1100 inputs span several GEMM panels.
        float[] x = rand.uniform(11 * 6 * 13 * 13, -1, 1);
        float[] w = rand.uniform(9 * 6 * 3 * 3, -1, 1);
        float[] dy = rand.uniform(11 * 9 * 13 * 13, -1, 1);
        float[] dx = rand.uniform(11 * 1100, -1, 1);
        float[] dw = rand.uniform(530 * 1100, -1, 1);
        float[][] reference = null;
        for (int threads : new int[] {1, 2, 3}) {
            try (CpuBackend b = new CpuBackend(threads)) {
                float[][] got = run(b, x, w, dy, dx, dw);
                if (reference == null) {
                    reference = got;
                } else {
                    for (int i = 0; i < got.length; i++) {
                        assertArrayEquals(reference[i], got[i], "output " + i + " with " + threads + " threads");
                    }
                }
            }
        }
    }

    private static float[][] run(CpuBackend b, float[] x, float[] w, float[] dy, float[] dx, float[] dw) {
        Conv2dParams p = Conv2dParams.of(1, 1, 1);
        try (Tensor tx = b.upload(x, Shape.of(11, 6, 13, 13)); Tensor tw = b.upload(w, Shape.of(9, 6, 3, 3));
                Tensor tdy = b.upload(dy, Shape.of(11, 9, 13, 13)); Tensor y = b.allocate(Shape.of(11, 9, 13, 13));
                Tensor gx = b.allocate(tx.shape()); Tensor gw = b.allocate(tw.shape());
                Tensor dIn = b.upload(dx, Shape.of(11, 1100)); Tensor dW = b.upload(dw, Shape.of(530, 1100));
                Tensor dOut = b.allocate(Shape.of(11, 530)); Tensor dGw = b.allocate(dW.shape())) {
            b.conv2dForward(y, tx, tw, null, p);
            b.conv2dBackwardData(gx, tdy, tw, p);
            b.conv2dBackwardFilter(gw, tx, tdy, p, false);
            b.denseForward(dOut, dIn, dW, null);
            b.denseBackward(null, dGw, null, dOut, dIn, dW, false);
            return new float[][] {b.download(y), b.download(gx), b.download(gw), b.download(dOut), b.download(dGw)};
        }
    }
}
