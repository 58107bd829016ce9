package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.receptive.testing.Rand;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * native-kernels/float_to_bf16.cu and bf16_to_float.cu compiled for the CPU (g++, one call per GPU
 * thread), against a reference written another way: the bf16 value of x is whichever of the two
 * bf16 neighbours of x (its float with the low 16 bits cleared, and the next one up in magnitude) is
 * nearer in double arithmetic, the one with an even last bit on a tie; NaN stays NaN, and values
 * past the largest bf16's halfway point round to infinity. Widening is exact, and accumulates in
 * float. CudaPrecisionTest runs the PTX on a GPU.
 */
class Bf16KernelsOnHostTest {
    @TempDir
    Path dir;

    /** The bf16 pattern nearest to {@code x}, ties to even, by comparing distances in double. */
    static int reference(float x) {
        int bits = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) {
            return -1; // any quiet NaN
        }
        int sign = bits & 0x80000000;
        int mag = bits & 0x7fffffff;
        int lo = mag & 0xffff0000;
        int hi = lo + 0x10000;
        double v = Math.abs((double) x);
        double loV = Float.intBitsToFloat(lo);
        double hiV = hi == 0x7f800000 ? Math.pow(2, 128) : Float.intBitsToFloat(hi);
        if (lo == 0x7f800000) {
            return (sign | lo) >>> 16; // infinity
        }
        int pick;
        if (v - loV < hiV - v) {
            pick = lo;
        } else if (v - loV > hiV - v) {
            pick = hi;
        } else {
            pick = (lo & 0x10000) == 0 ? lo : hi;
        }
        return (sign | pick) >>> 16;
    }

    @Test
    void roundsToNearestEvenAndWidensExactly() throws Exception {
        Path harness = dir.resolve("bf16_on_host.cpp");
        try (InputStream in = Bf16KernelsOnHostTest.class.getResourceAsStream("bf16_on_host.cpp")) {
            Files.write(harness, in.readAllBytes());
        }
        Path to = Path.of("native-kernels/float_to_bf16.cu");
        Path from = Path.of("native-kernels/bf16_to_float.cu");
        assumeTrue(Files.isRegularFile(to), "no source tree here");
        Path binary = dir.resolve("bf16");
        Process p;
        try {
            p = new ProcessBuilder("g++", "-O1", "-std=c++17", "-DTO=\"" + to.toAbsolutePath() + "\"",
                    "-DFROM=\"" + from.toAbsolutePath() + "\"", "-o", binary.toString(), harness.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException noCompiler) {
            assumeTrue(false, "g++ is not installed");
            return;
        }
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "g++ failed:\n" + log);

        List<Float> xs = new ArrayList<>();
        int[] edges = {0, 0x80000000, 1, 0x8000, 0x7f7fffff, 0x7f7f8000, 0x7f7f7fff, 0x7f800000, 0xff800000,
            0x7fc00000, 0x7f800001, 0xffc00001, 0x3f808000, 0x3f818000, 0x3f808001, 0x3f807fff, 0x00008000,
            0x00018000, 0xbf808000, 0x3f800000};
        for (int e : edges) {
            xs.add(Float.intBitsToFloat(e));
        }
        Rand rand = new Rand(16);
        java.util.Random bits = new java.util.Random(16);
        float[] ordinary = rand.uniform(3000, -3, 3);
        for (int i = 0; i < 3000; i++) {
            xs.add(Float.intBitsToFloat(bits.nextInt())); // every exponent, NaNs and infinities included
            xs.add(ordinary[i]);
        }
        int n = xs.size();
        int[] in = new int[n];
        float[] acc = new float[n];
        StringBuilder input = new StringBuilder().append(n).append('\n');
        for (float x : xs) {
            input.append(Integer.toHexString(Float.floatToRawIntBits(x))).append('\n');
        }
        for (int i = 0; i < n; i++) {
            in[i] = rand.nextInt(0, 0x10000);
            if ((in[i] & 0x7f80) == 0x7f80) {
                in[i] &= 0xbfff; // no inf or NaN: their sums are not what this checks
            }
            input.append(Integer.toHexString(in[i])).append('\n');
        }
        float[] sums = rand.uniform(n, -3, 3);
        for (int i = 0; i < n; i++) {
            acc[i] = sums[i];
            input.append(Integer.toHexString(Float.floatToRawIntBits(acc[i]))).append('\n');
        }
        Process run = new ProcessBuilder(binary.toString()).start();
        run.getOutputStream().write(input.toString().getBytes(StandardCharsets.US_ASCII));
        run.getOutputStream().close();
        List<String> out = new String(run.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).lines().toList();
        assertTrue(run.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, run.exitValue());
        assertEquals(3 * n, out.size());
        for (int i = 0; i < n; i++) {
            int got = Integer.parseInt(out.get(i), 16);
            float x = xs.get(i);
            if (Float.isNaN(x)) {
                assertTrue((got & 0x7f80) == 0x7f80 && (got & 0x7f) != 0 && (got & 0x40) != 0,
                        "NaN " + Integer.toHexString(Float.floatToRawIntBits(x)) + " -> quiet NaN, got " + out.get(i));
                continue;
            }
            assertEquals(reference(x), got, "bf16 of " + Integer.toHexString(Float.floatToRawIntBits(x)) + " (" + x + ")");
        }
        for (int i = 0; i < n; i++) {
            float widened = Float.intBitsToFloat(in[i] << 16);
            assertEquals(Float.floatToRawIntBits(widened), (int) Long.parseLong(out.get(n + i), 16), "widened " + i);
            assertEquals(Float.floatToRawIntBits(acc[i] + widened), (int) Long.parseLong(out.get(2 * n + i), 16),
                    "accumulated " + i);
        }
    }
}
