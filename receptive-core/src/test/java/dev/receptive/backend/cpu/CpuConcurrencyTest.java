package dev.receptive.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.receptive.backend.Conv2dParams;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * One CPU backend shared by threads that each run their own model (a server's replicas, a data
 * parallel executor's tasks): every op writes only its own outputs, so each thread gets what it
 * gets alone.
 */
class CpuConcurrencyTest {

    @Test
    void concurrentFilterGradientsOnOneBackendEqualSequentialOnes() throws Exception {
        Shape xs = Shape.of(16, 3, 12, 12); // 16 images: the filter gradient is summed in several groups
        Shape ws = Shape.of(8, 3, 3, 3);
        Conv2dParams p = Conv2dParams.of(1, 1, 1);
        Shape ys = p.outputShape("test", xs, ws);
        Rand rand = new Rand(5);
        float[][] x = {rand.uniform(xs.size(), -1, 1), rand.uniform(xs.size(), -1, 1)};
        float[][] dy = {rand.uniform(ys.size(), -1, 1), rand.uniform(ys.size(), -1, 1)};
        try (CpuBackend cpu = new CpuBackend(2)) {
            float[][] alone = {filterGradient(cpu, x[0], dy[0], xs, ws, ys, p), filterGradient(cpu, x[1], dy[1], xs, ws, ys, p)};
            ExecutorService threads = Executors.newFixedThreadPool(2);
            try {
                for (int round = 0; round < 50; round++) {
                    Future<float[]> a = threads.submit(task(cpu, x[0], dy[0], xs, ws, ys, p));
                    Future<float[]> b = threads.submit(task(cpu, x[1], dy[1], xs, ws, ys, p));
                    assertArrayEquals(alone[0], a.get(), "thread 0, round " + round);
                    assertArrayEquals(alone[1], b.get(), "thread 1, round " + round);
                }
            } finally {
                threads.shutdownNow();
            }
        }
    }

    private static Callable<float[]> task(CpuBackend cpu, float[] x, float[] dy, Shape xs, Shape ws, Shape ys,
            Conv2dParams p) {
        return () -> filterGradient(cpu, x, dy, xs, ws, ys, p);
    }

    private static float[] filterGradient(CpuBackend cpu, float[] x, float[] dy, Shape xs, Shape ws, Shape ys,
            Conv2dParams p) {
        try (Tensor xt = cpu.upload(x, xs); Tensor dyt = cpu.upload(dy, ys); Tensor dw = cpu.allocate(ws)) {
            float[] last = null;
            for (int i = 0; i < 20; i++) { // long enough for the two threads to overlap
                cpu.conv2dBackwardFilter(dw, xt, dyt, p, false);
                last = cpu.download(dw);
            }
            return last;
        }
    }
}
