package dev.receptive.backend.cpu;

/**
 * Batch normalization per channel c of x: (N, C, S) where S is every dimension after the
 * channels (H·W, or 1 for (N, F)). Sums run in double, channel by channel, each in a fixed order,
 * so results do not depend on the thread count.
 */
final class CpuBatchNorm {
    private CpuBatchNorm() {
    }

    /**
     * y = x·scale + shift over channel ch, rounded to float; then, unless shortcut is null, the add
     * kernel's y + shortcut in float; then the ReLU kernel's max(·, 0) with relu (the same bits as
     * the three ops one after another).
     */
    private static void normalize(float[] y, float[] x, float[] shortcut, int n, int c, int s, int ch, double scale,
            double shift, boolean relu) {
        for (int i = 0; i < n; i++) {
            int base = (i * c + ch) * s;
            if (shortcut != null) {
                for (int j = 0; j < s; j++) {
                    float v = (float) (x[base + j] * scale + shift) + shortcut[base + j];
                    y[base + j] = relu ? Math.max(v, 0f) : v;
                }
            } else if (relu) {
                for (int j = 0; j < s; j++) {
                    y[base + j] = Math.max((float) (x[base + j] * scale + shift), 0f);
                }
            } else {
                for (int j = 0; j < s; j++) {
                    y[base + j] = (float) (x[base + j] * scale + shift);
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
                normalize(y, x, shortcut, n, c, s, ch, scale, shift, relu);
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
                normalize(y, x, shortcut, n, c, s, ch, scale, shift, relu);
            }
        });
    }

    /**
     * Batch norm's backward from dy, or, when y (the output of a batch norm + ReLU, with or without
     * an add) is given, from dz = dy · [y &gt; 0], the ReLU kernel's mask, which it writes into dz as
     * its sums read it: one pass over dy fewer than the ReLU's backward op and then this.
     */
    // dx, dy, x, dz and y (or null): (n, c, s); dGamma, dBeta, gamma, save*: (c); dz may be dy
    static void backward(CpuParallel par, float[] dx, float[] dGamma, float[] dBeta, float[] dz, float[] dy, float[] y,
            float[] x, float[] gamma, float[] saveMean, float[] saveInvStd, int n, int c, int s, boolean accumulate) {
        long m = (long) n * s;
        float[] g = y == null ? dy : dz;
        par.forRange(c, 1, (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                double mean = saveMean[ch];
                double invStd = saveInvStd[ch];
                double sumDy = 0;
                double sumDyXhat = 0;
                for (int i = 0; i < n; i++) {
                    int base = (i * c + ch) * s;
                    if (y != null) {
                        for (int j = 0; j < s; j++) {
                            dz[base + j] = y[base + j] > 0 ? dy[base + j] : 0f;
                        }
                    }
                    for (int j = 0; j < s; j++) {
                        double gj = g[base + j];
                        sumDy += gj;
                        sumDyXhat += gj * (x[base + j] - mean) * invStd;
                    }
                }
                double k = gamma[ch] * invStd / m;
                for (int i = 0; i < n; i++) {
                    int base = (i * c + ch) * s;
                    for (int j = 0; j < s; j++) {
                        double xhat = (x[base + j] - mean) * invStd;
                        dx[base + j] = (float) (k * (m * g[base + j] - sumDy - xhat * sumDyXhat));
                    }
                }
                dBeta[ch] = (float) (accumulate ? dBeta[ch] + sumDy : sumDy);
                dGamma[ch] = (float) (accumulate ? dGamma[ch] + sumDyXhat : sumDyXhat);
            }
        });
    }
}
