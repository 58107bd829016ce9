package dev.receptive.testing;

import java.util.function.ToDoubleFunction;

/**
 * Central finite differences in double precision: the numeric gradient of a scalar function of
 * a vector. Tests choose inputs away from kinks (ReLU at 0, max-pool ties) so the difference
 * quotient is exact up to O(h²).
 */
public final class GradCheck {
    private GradCheck() {
    }

    public static double[] numeric(ToDoubleFunction<double[]> f, float[] at, double h) {
        double[] x = Close.toDouble(at);
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + h;
            double plus = f.applyAsDouble(x);
            x[i] = keep - h;
            double minus = f.applyAsDouble(x);
            x[i] = keep;
            g[i] = (plus - minus) / (2 * h);
        }
        return g;
    }

    /** Σ a[i]·b[i] in double: turns an op's output into the scalar L = Σ dy ⊙ y for gradient checks. */
    public static double dot(double[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
