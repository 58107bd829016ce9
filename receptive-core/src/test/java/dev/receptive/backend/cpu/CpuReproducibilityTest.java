package dev.receptive.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.receptive.backend.Activation;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.Rand;
import java.util.Arrays;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * CPU-only promises beyond the op contract: results are bit-identical for every thread count,
 * and sum accumulates in double. The sizes below are chosen so that three threads really split
 * each loop (the kernels hand out chunks of about 16k elements).
 */
class CpuReproducibilityTest {

    @Test
    void poolingIsIndependentOfThreadCount() {
        Rand rand = new Rand(31);
        Shape xs = Shape.of(8, 16, 28, 28); // 128 planes of 784: chunks of 16 planes
        float[] x = rand.uniform(xs.size(), -1, 1);
        for (Pool2dParams p : new Pool2dParams[] {Pool2dParams.of(2, 2, 0), Pool2dParams.of(3, 1, 1)}) {
            Shape ys = p.outputShape("test", xs);
            float[] dy = rand.uniform(ys.size(), -1, 1);
            for (PoolMode mode : PoolMode.values()) {
                assertSameOnOneAndThreeThreads(mode + " " + p, cpu -> {
                    Tensor xt = cpu.upload(x, xs);
                    Tensor y = cpu.allocate(ys);
                    Tensor dx = cpu.allocate(xs);
                    cpu.pool2dForward(mode, y, xt, p);
                    cpu.pool2dBackward(mode, dx, cpu.upload(dy, ys), xt, y, p);
                    return concat(cpu.download(y), cpu.download(dx));
                });
            }
        }
    }

    @Test
    void softmaxAndActivationsAreIndependentOfThreadCount() {
        Rand rand = new Rand(32);
        Shape s = Shape.of(6000, 10); // chunks of 1638 rows
        float[] x = rand.uniform(s.size(), -5, 5);
        float[] dy = rand.uniform(s.size(), -1, 1);
        assertSameOnOneAndThreeThreads("softmax", cpu -> {
            Tensor y = cpu.allocate(s);
            Tensor logY = cpu.allocate(s);
            Tensor dx = cpu.allocate(s);
            cpu.softmaxForward(y, cpu.upload(x, s));
            cpu.logSoftmaxForward(logY, cpu.upload(x, s));
            cpu.softmaxBackward(dx, cpu.upload(dy, s), y);
            return concat(concat(cpu.download(y), cpu.download(logY)), cpu.download(dx));
        });
        for (Activation f : Activation.values()) {
            assertSameOnOneAndThreeThreads(f.toString(), cpu -> {
                Tensor y = cpu.allocate(s);
                Tensor dx = cpu.allocate(s);
                cpu.activationForward(f, y, cpu.upload(x, s));
                cpu.activationBackward(f, dx, cpu.upload(dy, s), y);
                return concat(cpu.download(y), cpu.download(dx));
            });
        }
    }

    @Test
    void sumAccumulatesInDouble() {
        // 1e8 + 1 rounds back to 1e8 in fp32 (its spacing there is 8): a float running sum would
        // lose every one and return 0.
        float[] x = new float[1002];
        x[0] = 1e8f;
        Arrays.fill(x, 1, 1001, 1f);
        x[1001] = -1e8f;
        try (CpuBackend cpu = new CpuBackend(1)) {
            Tensor out = cpu.allocate(Shape.of(1));
            cpu.sum(out, cpu.upload(x, Shape.of(x.length)));
            Close.assertClose("sum", 1000, cpu.download(out)[0], 0, 0);
        }
    }

    /** Runs the same computation on one and on three threads and demands identical bits. */
    private static void assertSameOnOneAndThreeThreads(String what, Function<CpuBackend, float[]> run) {
        float[] one;
        float[] three;
        try (CpuBackend cpu = new CpuBackend(1)) {
            one = run.apply(cpu);
        }
        try (CpuBackend cpu = new CpuBackend(3)) {
            three = run.apply(cpu);
        }
        assertArrayEquals(bits(one), bits(three), what + ": results differ between 1 and 3 threads");
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
