package dev.receptive.backend.cpu;

import dev.receptive.backend.Activation;

/**
 * Elementwise ops, activations, row-wise softmax and the small helpers. Every output element
 * depends only on its own inputs (or its own row), so splitting the loops over threads never
 * changes a result. Reads of element i come before its write, so outputs may alias inputs.
 */
final class CpuPointwise {
    /** Elements per parallel chunk: below this, handing work to another thread costs more than it saves. */
    private static final int GRAIN = 16384;

    private CpuPointwise() {
    }

    // x, y: any shape, n elements
    static void activationForward(CpuParallel par, Activation f, float[] y, float[] x, int n) {
        par.forRange(n, GRAIN, (from, to) -> {
            switch (f) {
                case RELU -> {
                    for (int i = from; i < to; i++) {
                        y[i] = Math.max(x[i], 0f); // Math.max keeps NaN visible
                    }
                }
                case TANH -> {
                    for (int i = from; i < to; i++) {
                        y[i] = tanh(x[i]);
                    }
                }
                case SIGMOID -> {
                    for (int i = from; i < to; i++) {
                        // exp overflows to +inf for x < −710, giving the correct limit 0.
                        y[i] = (float) (1 / (1 + Math.exp(-x[i])));
                    }
                }
            }
        });
    }

    // dx, dy, y: any shape, n elements; derivatives through y = f(x)
    static void activationBackward(CpuParallel par, Activation f, float[] dx, float[] dy, float[] y, int n) {
        par.forRange(n, GRAIN, (from, to) -> {
            switch (f) {
                case RELU -> {
                    for (int i = from; i < to; i++) {
                        dx[i] = y[i] > 0 ? dy[i] : 0f;
                    }
                }
                case TANH -> {
                    for (int i = from; i < to; i++) {
                        dx[i] = dy[i] * (1 - y[i] * y[i]);
                    }
                }
                case SIGMOID -> {
                    for (int i = from; i < to; i++) {
                        dx[i] = dy[i] * y[i] * (1 - y[i]);
                    }
                }
            }
        });
    }

    // x, y: (rows, cols)
    static void softmaxForward(CpuParallel par, float[] y, float[] x, int rows, int cols, boolean log) {
        par.forRange(rows, rowGrain(cols), (from, to) -> {
            for (int r = from; r < to; r++) {
                int start = r * cols;
                int end = start + cols;
                // Shifting by the row max keeps exp in range (softmax(x) = softmax(x − c) for any c).
                float max = x[start];
                for (int i = start + 1; i < end; i++) {
                    max = Math.max(max, x[i]);
                }
                double sum = 0;
                for (int i = start; i < end; i++) {
                    double e = Math.exp((double) x[i] - max);
                    sum += e;
                    if (!log) {
                        y[i] = (float) e;
                    }
                }
                if (log) {
                    // x − max is exact in double, so large logits lose nothing before log Σ is taken off.
                    double logSum = Math.log(sum);
                    for (int i = start; i < end; i++) {
                        y[i] = (float) ((double) x[i] - max - logSum);
                    }
                } else {
                    double inv = 1 / sum;
                    for (int i = start; i < end; i++) {
                        y[i] = (float) (y[i] * inv);
                    }
                }
            }
        });
    }

    // dx, dy, y: (rows, cols); dx = y·(dy − Σ dy·y) per row
    static void softmaxBackward(CpuParallel par, float[] dx, float[] dy, float[] y, int rows, int cols) {
        par.forRange(rows, rowGrain(cols), (from, to) -> {
            for (int r = from; r < to; r++) {
                int start = r * cols;
                int end = start + cols;
                double dot = 0;
                for (int i = start; i < end; i++) {
                    dot += (double) dy[i] * y[i];
                }
                for (int i = start; i < end; i++) {
                    dx[i] = (float) (y[i] * (dy[i] - dot));
                }
            }
        });
    }

    // y, a, b: any shape, n elements
    static void add(CpuParallel par, float[] y, float[] a, float[] b, int n) {
        par.forRange(n, GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                y[i] = a[i] + b[i];
            }
        });
    }

    // y, x: any shape, n elements
    static void scale(CpuParallel par, float[] y, float[] x, float alpha, int n) {
        par.forRange(n, GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                y[i] = alpha * x[i];
            }
        });
    }

    // y, x: any shape, n elements; y += alpha·x
    static void axpy(CpuParallel par, float[] y, float alpha, float[] x, int n) {
        par.forRange(n, GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                y[i] += alpha * x[i];
            }
        });
    }

    // dst[i·dstRow + dstAt + j] = src[i·srcRow + srcAt + j] for i < rows, j < width
    static void copyRows(float[] dst, int dstRow, int dstAt, float[] src, int srcRow, int srcAt, int width, int rows) {
        for (int i = 0; i < rows; i++) {
            System.arraycopy(src, i * srcRow + srcAt, dst, i * dstRow + dstAt, width);
        }
    }

    // x: (rows, cols); out: (rows)
    static void argmax(float[] out, float[] x, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int start = r * cols;
            int best = 0;
            for (int i = 1; i < cols; i++) {
                // Strictly greater: ties keep the first index.
                if (x[start + i] > x[start + best]) {
                    best = i;
                }
            }
            out[r] = best;
        }
    }

    /** Σ x (any shape, n elements) in double, in index order: the same result on every call and thread count. */
    static float sum(float[] x, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += x[i];
        }
        return (float) s;
    }

    /**
     * tanh through exp: Math.tanh is a slow native call on JDK 17 while Math.exp is an intrinsic.
     * tanh|v| = (1 − e^−2|v|) / (1 + e^−2|v|), in double; below 2^−12, tanh v = v − v³/3 + … rounds
     * to v in fp32, and the formula would lose digits to cancellation. Gives the same fp32 values
     * as (float) Math.tanh on a sweep of 2^24 inputs.
     */
    private static float tanh(float v) {
        float a = Math.abs(v);
        if (a < 0x1p-12f) {
            return v;
        }
        double e = Math.exp(-2.0 * a);
        return Math.copySign((float) ((1 - e) / (1 + e)), v);
    }

    private static int rowGrain(int cols) {
        return Math.max(1, GRAIN / cols);
    }
}
