package dev.receptive.backend.cpu;

/**
 * Batch normalization per channel c of x: (N, C, S) where S is every dimension after the
 * channels (H·W, or 1 for (N, F)). Sums run in double, channel by channel, each in a fixed order,
 * so results do not depend on the thread count.
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

    // y, x, shortcut (or null): (n, c, s); gamma, beta, running*, save*: (c)
    static void forwardTraining(CpuParallel par, float[] y, float[] x, float[] shortcut, float[] gamma, float[] beta,
            float[] runningMean, float[] runningVar, float[] saveMean, float[] saveInvStd, int n, int c, int s,
            float momentum, float eps, boolean relu) {
        long m = (long) n * s;
        par.forRange(c, 1, (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    int base = (i * c + ch) * s;
                    for (int j = 0; j < s; j++) {
                        sum += x[base + j];
                    }
                }
                double mean = sum / m;
                double squares = 0;
                for (int i = 0; i < n; i++) {
                    int base = (i * c + ch) * s;
                    for (int j = 0; j < s; j++) {
                        double d = x[base + j] - mean;
                        squares += d * d;
                    }
                }
                double var = squares / m;
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
                double sumDy = 0;
                double sumDyXhat = 0;
                for (int i = 0; i < n; i++) {
                    int base = (i * c + ch) * s;
                    for (int j = 0; j < s; j++) {
                        double g = dy[base + j];
                        sumDy += g;
                        sumDyXhat += g * (x[base + j] - mean) * invStd;
                    }
                }
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
