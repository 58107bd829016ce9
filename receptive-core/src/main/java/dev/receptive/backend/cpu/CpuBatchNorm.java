package dev.receptive.backend.cpu;

/**
 * Batch normalization per channel c of x: (N, C, S) where S is every dimension after the
 * channels (H·W, or 1 for (N, F)). Sums run in double, channel by channel, each in a fixed order
 * (four partial sums, see {@link #sum}), so results do not depend on the thread count.
 */
final class CpuBatchNorm {
    private CpuBatchNorm() {
    }

    /** y = x·scale + shift over channel ch, rounded to float. */
    private static void normalize(float[] y, float[] x, int n, int c, int s, int ch, double scale, double shift) {
        for (int i = 0; i < n; i++) {
            int base = (i * c + ch) * s;
            for (int j = base; j < base + s; j++) {
                y[j] = (float) (x[j] * scale + shift);
            }
        }
    }

    /**
     * Over channel ch of y: unless shortcut is null, the add kernel's y + shortcut in float; then the
     * ReLU kernel's max(·, 0) with relu: the same bits as the ops one after another. A method of its
     * own, with one simple loop each, so that C2 vectorizes every loop: with the add and the ReLU in
     * {@link #normalize}'s loop, or in its method behind flags, normalize ran several times slower.
     */
    private static void addRelu(float[] y, float[] shortcut, int n, int c, int s, int ch, boolean relu) {
        for (int i = 0; i < n; i++) {
            int base = (i * c + ch) * s;
            if (shortcut != null) {
                for (int j = base; j < base + s; j++) {
                    y[j] = y[j] + shortcut[j];
                }
            }
            if (relu) {
                for (int j = base; j < base + s; j++) {
                    y[j] = Math.max(y[j], 0f);
                }
            }
        }
    }

    /**
     * Σ x over channel ch, in double, in four partial sums (the elements 4k, 4k + 1, 4k + 2 and
     * 4k + 3 of each row) added at the end: one running sum makes every addition wait for the one
     * before (its latency), four let them overlap. A fixed order still, whatever the thread count.
     */
    private static double sum(float[] x, int n, int c, int s, int ch) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        for (int i = 0; i < n; i++) {
            int j = (i * c + ch) * s;
            int end = j + s;
            for (; j + 3 < end; j += 4) {
                s0 += x[j];
                s1 += x[j + 1];
                s2 += x[j + 2];
                s3 += x[j + 3];
            }
            for (; j < end; j++) {
                s0 += x[j];
            }
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** Σ (x − mean)² over channel ch, in double, in four partial sums as {@link #sum}. */
    private static double squares(float[] x, int n, int c, int s, int ch, double mean) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        for (int i = 0; i < n; i++) {
            int j = (i * c + ch) * s;
            int end = j + s;
            for (; j + 3 < end; j += 4) {
                double e0 = x[j] - mean;
                double e1 = x[j + 1] - mean;
                double e2 = x[j + 2] - mean;
                double e3 = x[j + 3] - mean;
                s0 += e0 * e0;
                s1 += e1 * e1;
                s2 += e2 * e2;
                s3 += e3 * e3;
            }
            for (; j < end; j++) {
                double e = x[j] - mean;
                s0 += e * e;
            }
        }
        return (s0 + s1) + (s2 + s3);
    }

    // y, x, shortcut (or null): (n, c, s); gamma, beta, running*, save*: (c)
    static void forwardTraining(CpuParallel par, float[] y, float[] x, float[] shortcut, float[] gamma, float[] beta,
            float[] runningMean, float[] runningVar, float[] saveMean, float[] saveInvStd, int n, int c, int s,
            float momentum, float eps, boolean relu) {
        long m = (long) n * s;
        par.forRange(c, 1, (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                double mean = sum(x, n, c, s, ch) / m;
                double var = squares(x, n, c, s, ch, mean) / m;
                double invStd = 1 / Math.sqrt(var + eps);
                double scale = gamma[ch] * invStd;
                double shift = beta[ch] - mean * scale;
                normalize(y, x, n, c, s, ch, scale, shift);
                if (shortcut != null || relu) {
                    addRelu(y, shortcut, n, c, s, ch, relu);
                }
                saveMean[ch] = (float) mean;
                saveInvStd[ch] = (float) invStd;
                runningMean[ch] = (float) ((1 - momentum) * (double) runningMean[ch] + momentum * mean);
                runningVar[ch] = (float) ((1 - momentum) * (double) runningVar[ch] + momentum * var * m / (m - 1));
            }
        });
    }

    // y, x, shortcut (or null): (n, c, s); gamma, beta, running*: (c)
    static void forwardInference(CpuParallel par, float[] y, float[] x, float[] shortcut, float[] gamma, float[] beta,
            float[] runningMean, float[] runningVar, int n, int c, int s, float eps, boolean relu) {
        par.forRange(c, 1, (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                double scale = gamma[ch] / Math.sqrt((double) runningVar[ch] + eps);
                double shift = beta[ch] - runningMean[ch] * scale;
                normalize(y, x, n, c, s, ch, scale, shift);
                if (shortcut != null || relu) {
                    addRelu(y, shortcut, n, c, s, ch, relu);
                }
            }
        });
    }

    // dx, dy, x: (n, c, s); dGamma, dBeta, gamma, save*: (c)
    static void backward(CpuParallel par, float[] dx, float[] dGamma, float[] dBeta, float[] dy, float[] x, float[] gamma,
            float[] saveMean, float[] saveInvStd, int n, int c, int s, boolean accumulate) {
        long m = (long) n * s;
        par.forRange(c, 1, (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                double mean = saveMean[ch];
                double invStd = saveInvStd[ch];
                // Σ dy and Σ dy·x̂ in four partial sums each, as in sum().
                double d0 = 0;
                double d1 = 0;
                double d2 = 0;
                double d3 = 0;
                double h0 = 0;
                double h1 = 0;
                double h2 = 0;
                double h3 = 0;
                for (int i = 0; i < n; i++) {
                    int j = (i * c + ch) * s;
                    int end = j + s;
                    for (; j + 3 < end; j += 4) {
                        double g0 = dy[j];
                        double g1 = dy[j + 1];
                        double g2 = dy[j + 2];
                        double g3 = dy[j + 3];
                        d0 += g0;
                        d1 += g1;
                        d2 += g2;
                        d3 += g3;
                        h0 += g0 * (x[j] - mean) * invStd;
                        h1 += g1 * (x[j + 1] - mean) * invStd;
                        h2 += g2 * (x[j + 2] - mean) * invStd;
                        h3 += g3 * (x[j + 3] - mean) * invStd;
                    }
                    for (; j < end; j++) {
                        double g = dy[j];
                        d0 += g;
                        h0 += g * (x[j] - mean) * invStd;
                    }
                }
                double sumDy = (d0 + d1) + (d2 + d3);
                double sumDyXhat = (h0 + h1) + (h2 + h3);
                double k = gamma[ch] * invStd / m;
                for (int i = 0; i < n; i++) {
                    int base = (i * c + ch) * s;
                    for (int j = 0; j < s; j++) {
                        double xhat = (x[base + j] - mean) * invStd;
                        dx[base + j] = (float) (k * (m * dy[base + j] - sumDy - xhat * sumDyXhat));
                    }
                }
                dBeta[ch] = (float) (accumulate ? dBeta[ch] + sumDy : sumDy);
                dGamma[ch] = (float) (accumulate ? dGamma[ch] + sumDyXhat : sumDyXhat);
            }
        });
    }
}
