package dev.receptive.backend.cpu;

import dev.receptive.backend.cpu.Gemm.View;

/** Fully connected layer: y = x·wᵀ + b and its gradients, on the blocked GEMM. */
final class CpuDense {
    private final CpuParallel par;

    CpuDense(CpuParallel par) {
        this.par = par;
    }

    // y: (n, out) = x: (n, in) · wᵀ: (in, out) + b: (out)
    void forward(float[] y, float[] x, float[] w, float[] b, int n, int in, int out) {
        if (b != null) {
            for (int i = 0; i < n; i++) {
                System.arraycopy(b, 0, y, i * out, out);
            }
        }
        Gemm.multiply(par, n, out, in, View.rowMajor(x, 0, in), View.transposed(w, 0, in), y, 0, out, b != null);
    }

    // dx: (n, in) = dy · w;  dw: (out, in) = dyᵀ · x;  db: (out) = Σ_n dy; dw and db added to when accumulating
    void backward(float[] dx, float[] dw, float[] db, float[] dy, float[] x, float[] w, int n, int in, int out,
            boolean accumulate) {
        if (dx != null) {
            Gemm.multiply(par, n, in, out, View.rowMajor(dy, 0, out), View.rowMajor(w, 0, in), dx, 0, in, false);
        }
        Gemm.multiply(par, out, in, n, View.transposed(dy, 0, out), View.rowMajor(x, 0, in), dw, 0, in, accumulate);
        if (db != null) {
            biasGradient(par, db, dy, n, out, accumulate);
        }
    }

    // db: (out) = Σ_n dy: (n, out) in double, in row order; added to db when accumulating
    static void biasGradient(CpuParallel par, float[] db, float[] dy, int n, int out, boolean accumulate) {
        par.forRange(out, 256, (from, to) -> {
            for (int o = from; o < to; o++) {
                double s = accumulate ? db[o] : 0;
                for (int i = 0; i < n; i++) {
                    s += dy[i * out + o];
                }
                db[o] = (float) s;
            }
        });
    }
}
