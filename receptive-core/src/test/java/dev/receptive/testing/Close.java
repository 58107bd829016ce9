package dev.receptive.testing;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The one tolerance check of the test suite: element i passes when
 * |actual[i] − expected[i]| ≤ atol + rtol·|expected[i]|. A failure lists the first mismatches
 * with their indices, and NaN never passes.
 */
public final class Close {
    private static final int SHOWN = 8;

    private Close() {
    }

    public static void assertClose(String what, double[] expected, float[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " values but got " + actual.length);
        }
        StringBuilder sb = new StringBuilder();
        int bad = 0;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            double err = Math.abs(a - e);
            boolean ok = err <= atol + rtol * Math.abs(e);
            if (!ok || Double.isNaN(a) != Double.isNaN(e)) {
                if (bad < SHOWN) {
                    sb.append(String.format("%n  [%d] expected %.9g but got %.9g (|diff| %.3g)", i, e, a, err));
                }
                bad++;
            }
            if (!Double.isNaN(err)) {
                worst = Math.max(worst, err);
            }
        }
        if (bad > 0) {
            fail(String.format("%s: %d of %d values differ beyond atol %.1g + rtol %.1g (largest |diff| %.3g):%s",
                    what, bad, expected.length, atol, rtol, worst, sb));
        }
    }

    public static void assertClose(String what, float[] expected, float[] actual, double atol, double rtol) {
        assertClose(what, toDouble(expected), actual, atol, rtol);
    }

    public static void assertClose(String what, double expected, float actual, double atol, double rtol) {
        assertClose(what, new double[] {expected}, new float[] {actual}, atol, rtol);
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
