package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.cuda.CudaOptions.Precision;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import dev.receptive.testing.TestBackends;
import org.junit.jupiter.api.Test;

/**
 * tf32 and bf16 against fp32, with tolerances from the mantissa widths. An input converted to p
 * explicit mantissa bits is off by less than u = 2^−p relative whether the conversion rounds to
 * nearest (2^−(p+1)) or truncates, as some tensor-core paths do (TF32 p = 10, u = 2⁻¹⁰; bf16 p = 7,
 * u = 2⁻⁷); a product of two such inputs is off by at most 2u relative, and the fp32 sum adds its
 * own rounding, so an output y =
 * Σ aᵢbᵢ is within 2u·Σ|aᵢbᵢ| + 1e-4·Σ|aᵢbᵢ| of the fp32 result: Σ|aᵢbᵢ| is computed exactly for
 * each output by running the same op on the CPU on |a| and |b|. A wrong GEMM (transposed, a wrong
 * leading dimension, another row's data) is off by about the size of the terms, far beyond that
 * bound (at most 2·2⁻⁷ + 1e-4 ≈ 1.6% of Σ|terms|); a single missing term of 3136 is not (it is
 * ~3e-4 of them): the fp32 parity tests, which run the same cuDNN and cuBLAS calls, catch those.
 * The dense case must also differ from fp32 somewhere: equal bits would mean the mode never
 * reached the tensor cores. In bf16 mode convolutions run on bf16 copies of x and w (converted by
 * float_to_bf16.cu, checked on the host by Bf16KernelsOnHostTest). Written without a GPU: never
 * run yet.
 */
class CudaPrecisionTest {
    private static final double FP32_SUMS = 1e-4;

    @Test
    void denseAndConvInTf32AndBf16StayWithinTheirMantissaBounds() {
        for (Precision mode : new Precision[] {Precision.TF32, Precision.BF16}) {
            double denseU = mode == Precision.BF16 ? 0x1p-7 : 0x1p-10;
            // bf16 convolutions, or TF32 where cuDNN cannot run a geometry in bf16: the wider bound covers both.
            double convU = mode == Precision.BF16 ? 0x1p-7 : 0x1p-10;
            try (CudaBackend fp32 = CudaTestSupport.backendOrSkip();
                    CudaBackend gpu = CudaTestSupport.backendOrSkip(CudaOptions.defaults().withPrecision(mode));
                    Backend cpu = TestBackends.cpu()) {
                Rand rand = new Rand(3);
                int n = 64;
                int in = 3136;
                int out = 1024;
                float[] x = rand.uniform(n * in, -1, 1);
                float[] w = rand.uniform(out * in, -0.05, 0.05);
                float[] expected = dense(cpu, x, w, n, in, out);
                float[] bound = dense(cpu, abs(x), abs(w), n, in, out);
                float[] got = dense(gpu, x, w, n, in, out);
                within(mode + " dense", expected, got, bound, 2 * denseU + FP32_SUMS);
                float[] plain = dense(fp32, x, w, n, in, out);
                assertTrue(differs(plain, got), mode + " dense gives fp32's bits: tensor cores were not used");

                Conv2dParams p = Conv2dParams.of(1, 2, 1);
                float[] cx = rand.uniform(16 * 32 * 14 * 14, -1, 1);
                float[] cw = rand.uniform(64 * 32 * 25, -0.1, 0.1);
                float[] cExpected = conv(cpu, cx, cw, p);
                float[] cBound = conv(cpu, abs(cx), abs(cw), p);
                within(mode + " conv", cExpected, conv(gpu, cx, cw, p), cBound, 2 * convU + FP32_SUMS);
            }
        }
    }

    private static float[] dense(Backend b, float[] x, float[] w, int n, int in, int out) {
        try (Tensor tx = b.upload(x, Shape.of(n, in)); Tensor tw = b.upload(w, Shape.of(out, in));
                Tensor y = b.allocate(Shape.of(n, out))) {
            b.denseForward(y, tx, tw, null);
            return b.download(y);
        }
    }

    private static float[] conv(Backend b, float[] x, float[] w, Conv2dParams p) {
        try (Tensor tx = b.upload(x, Shape.of(16, 32, 14, 14)); Tensor tw = b.upload(w, Shape.of(64, 32, 5, 5));
                Tensor y = b.allocate(Shape.of(16, 64, 14, 14))) {
            b.conv2dForward(y, tx, tw, null, p);
            return b.download(y);
        }
    }

    private static float[] abs(float[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.abs(a[i]);
        }
        return r;
    }

    private static boolean differs(float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                return true;
            }
        }
        return false;
    }

    /** |got − expected| ≤ rel·Σ|terms| for each output; the first failures are listed. */
    private static void within(String what, float[] expected, float[] got, float[] sumOfAbs, double rel) {
        StringBuilder bad = new StringBuilder();
        int count = 0;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs((double) got[i] - expected[i]);
            if (!(err <= rel * sumOfAbs[i])) {
                if (count++ < 8) {
                    bad.append(String.format("%n  [%d] expected %.7g got %.7g, bound %.3g", i, expected[i], got[i],
                            rel * sumOfAbs[i]));
                }
            }
        }
        if (count > 0) {
            fail(what + ": " + count + " of " + expected.length + " outputs beyond " + rel + "·Σ|terms|" + bad);
        }
    }
}
