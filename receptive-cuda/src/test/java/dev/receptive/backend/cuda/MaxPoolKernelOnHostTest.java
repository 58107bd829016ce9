package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.backend.Backend;
import dev.receptive.testing.TestBackends;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * native-kernels/maxpool_backward.cu compiled for the CPU (g++, one call per GPU thread) against the
 * CPU backend, bit for bit, on inputs full of ties: the kernel's window arithmetic and its
 * first-maximum rule are checked here, where no GPU runs it. CudaPoolTest runs the PTX on a GPU.
 */
class MaxPoolKernelOnHostTest {
    private static final Path KERNEL = Path.of("native-kernels/maxpool_backward.cu");
    @TempDir
    static Path dir;
    private static Path binary;

    @BeforeAll
    static void compile() throws Exception {
        assumeTrue(Files.isRegularFile(KERNEL), "no source tree here");
        Path harness = dir.resolve("kernel_on_host.cpp");
        try (InputStream in = MaxPoolKernelOnHostTest.class.getResourceAsStream("kernel_on_host.cpp")) {
            Files.write(harness, in.readAllBytes());
        }
        binary = dir.resolve("maxpool_backward");
        Process p;
        try {
            p = new ProcessBuilder("g++", "-O1", "-std=c++17", "-DKERNEL=\"" + KERNEL.toAbsolutePath() + "\"", "-o",
                    binary.toString(), harness.toString()).redirectErrorStream(true).start();
        } catch (IOException noCompiler) {
            assumeTrue(false, "g++ is not installed");
            return;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "g++ failed:\n" + out);
    }

    @Test
    void routesEveryWindowLikeTheCpuOnTiesPaddingAndOverlaps() throws Exception {
        Rand rand = new Rand(5150);
        List<Pool2dParams> geometries = List.of(Pool2dParams.of(2, 2, 0), Pool2dParams.of(3, 2, 1), Pool2dParams.of(2, 1, 0),
                Pool2dParams.of(3, 1, 1), new Pool2dParams(3, 2, 2, 1, 1, 0), new Pool2dParams(1, 3, 1, 2, 0, 1));
        try (Backend cpu = TestBackends.cpu()) {
            for (Pool2dParams p : geometries) {
                for (int trial = 0; trial < 4; trial++) {
                    int n = rand.nextInt(1, 3);
                    int c = rand.nextInt(1, 4);
                    int h = rand.nextInt(p.windowH(), 12);
                    int w = rand.nextInt(p.windowW(), 12);
                    float[] x = new float[n * c * h * w];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = rand.nextInt(0, 2); // values 0..2: most windows hold their maximum several times
                    }
                    if (trial == 3) {
                        x[rand.nextInt(0, x.length - 1)] = Float.NaN; // a NaN window routes to its first NaN
                    }
                    compare(cpu, p, Shape.of(n, c, h, w), x, rand);
                }
            }
        }
    }

    @Test
    void theContractsHandCaseRoutesToTheFirstMaximum() throws Exception {
        // PoolContract.maxBackwardRoutesToFirstMaximum: [[1,5,3,2],[5,0,1,3]], window 2, stride 2.
        float[] dx = run(Pool2dParams.of(2, 2, 0), Shape.of(1, 1, 2, 4), Shape.of(1, 1, 1, 2), new float[] {10, 20},
                new float[] {1, 5, 3, 2, 5, 0, 1, 3}, new float[] {5, 3});
        assertArrayEquals(new float[] {0, 10, 20, 0, 0, 0, 0, 0}, dx);
    }

    private void compare(Backend cpu, Pool2dParams p, Shape xs, float[] x, Rand rand) throws Exception {
        Shape ys = p.outputShape("test", xs);
        float[] dy = rand.uniform(ys.size(), -1, 1);
        try (Tensor xt = cpu.upload(x, xs); Tensor yt = cpu.allocate(ys); Tensor dyt = cpu.upload(dy, ys);
                Tensor dxt = cpu.allocate(xs)) {
            cpu.pool2dForward(PoolMode.MAX, yt, xt, p);
            cpu.pool2dBackward(PoolMode.MAX, dxt, dyt, xt, yt, p);
            float[] expected = cpu.download(dxt);
            float[] actual = run(p, xs, ys, dy, x, cpu.download(yt));
            String what = p + " x=" + xs;
            assertEquals(expected.length, actual.length, what);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                        what + " dx[" + i + "]: cpu " + expected[i] + ", kernel " + actual[i]);
            }
        }
    }

    private static float[] run(Pool2dParams p, Shape xs, Shape ys, float[] dy, float[] x, float[] y) throws Exception {
        StringBuilder in = new StringBuilder();
        int[] args = {xs.dim(0) * xs.dim(1), xs.dim(2), xs.dim(3), ys.dim(2), ys.dim(3), p.windowH(), p.windowW(),
            p.strideH(), p.strideW(), p.padH(), p.padW()};
        for (int a : args) {
            in.append(a).append('\n');
        }
        for (float[] arr : new float[][] {dy, x, y}) {
            for (float f : arr) {
                in.append(String.format("%08x%n", Float.floatToRawIntBits(f)));
            }
        }
        Process proc = new ProcessBuilder(binary.toString()).start();
        proc.getOutputStream().write(in.toString().getBytes(StandardCharsets.US_ASCII));
        proc.getOutputStream().close();
        String[] lines = new String(proc.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim().split("\n");
        assertTrue(proc.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, proc.exitValue());
        float[] dx = new float[xs.size()];
        assertEquals(dx.length, lines.length);
        for (int i = 0; i < dx.length; i++) {
            dx[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(lines[i].trim(), 16));
        }
        return dx;
    }
}
