package dev.receptive.backend.cpu;

import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.cpu.Gemm.View;
import dev.receptive.tensor.Shape;
import java.util.Arrays;

/**
 * 2-D convolution (cross-correlation) as GEMM over im2col, one image at a time.
 *
 * <p>For image n, let col be the (C·R·S × P·Q) matrix whose row (c, r, s) and column (p, q)
 * hold x[n, c, p·sh − ph + r·dh, q·sw − pw + s·dw] (zero outside x). Then
 * <pre>
 *   y[n]  = w · col            (K × P·Q)   forward
 *   dcol  = wᵀ · dy[n]         (C·R·S × P·Q), scattered back onto dx[n]   backward data
 *   dw   += dy[n] · colᵀ       (K × C·R·S)  backward filter
 * </pre>
 * col is never stored: {@link Im2col} packs the rows the GEMM asks for straight from x.
 */
final class CpuConv {
    /** Images are split into at most this many fixed groups for the filter gradient. */
    private static final int FILTER_GROUPS = 8;

    private final CpuParallel par;
    private final ThreadLocal<float[]> dcolScratch = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> outScratch = ThreadLocal.withInitial(() -> new float[0]);
    /**
     * Partial filter gradients per image group, owned by the thread that called backwardFilter
     * (worker threads fill them for that call only): two callers never share them.
     */
    private final ThreadLocal<float[][]> filterPartials = ThreadLocal.withInitial(() -> new float[0][]);

    CpuConv(CpuParallel par) {
        this.par = par;
    }

    // y: (N, K, P, Q) = conv(x: (N, C, H, W), w: (K, C, R, S)) + b: (K)
    void forward(float[] y, float[] x, float[] w, float[] b, Shape xs, Shape ws, Shape ys, Conv2dParams p) {
        Geometry g = new Geometry(xs, ws, ys, p);
        View wv = View.rowMajor(w, 0, g.crs);
        int group = g.imagesPerGemm();
        par.forRange(g.groups(group), (from, to) -> {
            float[] out = group == 1 ? y : scratch(outScratch, g.k * group * g.pq);
            for (int grp = from; grp < to; grp++) {
                int n0 = grp * group;
                int cols = Math.min(group, g.n - n0) * g.pq;
                int off = group == 1 ? n0 * g.k * g.pq : 0;
                if (b != null) {
                    for (int k = 0; k < g.k; k++) {
                        Arrays.fill(out, off + k * cols, off + (k + 1) * cols, b[k]);
                    }
                }
                Gemm.multiply(g.k, cols, g.crs, wv, new Im2col(g, x, n0 * g.chw), out, off, cols, b != null);
                if (group > 1) {
                    // out holds (K, images·P·Q); y wants (images, K, P·Q).
                    for (int i = 0; i < cols / g.pq; i++) {
                        for (int k = 0; k < g.k; k++) {
                            System.arraycopy(out, k * cols + i * g.pq, y, ((n0 + i) * g.k + k) * g.pq, g.pq);
                        }
                    }
                }
            }
        });
    }

    // dx: (N, C, H, W) from dy: (N, K, P, Q) and w: (K, C, R, S)
    void backwardData(float[] dx, float[] dy, float[] w, Shape xs, Shape ws, Shape ys, Conv2dParams p) {
        Geometry g = new Geometry(xs, ws, ys, p);
        View wt = View.transposed(w, 0, g.crs);
        int group = g.imagesPerGemm();
        par.forRange(g.groups(group), (from, to) -> {
            float[] dcol = scratch(dcolScratch, g.crs * group * g.pq);
            for (int grp = from; grp < to; grp++) {
                int n0 = grp * group;
                int images = Math.min(group, g.n - n0);
                int cols = images * g.pq;
                Gemm.multiply(g.crs, cols, g.k, wt, new OutputColumns(g, dy, n0), dcol, 0, cols, false);
                for (int i = 0; i < images; i++) {
                    col2im(g, dcol, cols, i * g.pq, dx, (n0 + i) * g.chw);
                }
            }
        });
    }

    // dw: (K, C, R, S) = Σ_n dy[n] · col[n]ᵀ, added to dw when accumulating
    void backwardFilter(float[] dw, float[] x, float[] dy, Shape xs, Shape ws, Shape ys, Conv2dParams p,
            boolean accumulate) {
        Geometry g = new Geometry(xs, ws, ys, p);
        // Fixed groups of images, each summed in image order, then the groups in group order:
        // the result does not depend on the number of threads.
        int groups = Math.min(FILTER_GROUPS, g.n);
        int size = g.k * g.crs;
        float[][] partials = filterPartials(groups, size);
        par.forRange(groups, (from, to) -> {
            for (int grp = from; grp < to; grp++) {
                int n0 = (int) ((long) g.n * grp / groups);
                int n1 = (int) ((long) g.n * (grp + 1) / groups);
                float[] acc = grp == 0 ? dw : partials[grp];
                for (int n = n0; n < n1; n++) {
                    Gemm.multiply(g.k, g.crs, g.pq, View.rowMajor(dy, n * g.k * g.pq, g.pq),
                            new Im2colTransposed(g, x, n * g.chw), acc, 0, g.crs, n > n0 || (grp == 0 && accumulate));
                }
            }
        });
        if (groups > 1) {
            par.forRange(size, 4096, (from, to) -> {
                for (int grp = 1; grp < groups; grp++) {
                    float[] part = partials[grp];
                    for (int i = from; i < to; i++) {
                        dw[i] += part[i];
                    }
                }
            });
        }
    }

    // db: (K) = Σ_{n,p,q} dy: (N, K, P, Q), added to db when accumulating
    void backwardBias(float[] db, float[] dy, Shape ys, boolean accumulate) {
        int n = ys.dim(0);
        int k = ys.dim(1);
        int pq = ys.dim(2) * ys.dim(3);
        par.forRange(k, 8, (from, to) -> {
            for (int f = from; f < to; f++) {
                double s = accumulate ? db[f] : 0;
                for (int i = 0; i < n; i++) {
                    int off = (i * k + f) * pq;
                    for (int j = 0; j < pq; j++) {
                        s += dy[off + j];
                    }
                }
                db[f] = (float) s;
            }
        });
    }

    private static float[] scratch(ThreadLocal<float[]> holder, int size) {
        float[] a = holder.get();
        if (a.length < size) {
            a = new float[size];
            holder.set(a);
        }
        return a;
    }

    private float[][] filterPartials(int groups, int size) {
        float[][] a = filterPartials.get();
        if (a.length < groups || (groups > 1 && a[1].length < size)) {
            a = new float[Math.max(groups, a.length)][];
            for (int i = 1; i < a.length; i++) {
                a[i] = new float[size];
            }
            filterPartials.set(a);
        }
        return a;
    }

    /**
     * dx[n] = Σ over (c, r, s, p, q) of dcol scattered to the input pixel each column read; the
     * image's columns start at colOff in rows of length cols.
     */
    private static void col2im(Geometry g, float[] dcol, int cols, int colOff, float[] dx, int xOff) {
        Arrays.fill(dx, xOff, xOff + g.chw, 0f);
        for (int row = 0; row < g.crs; row++) {
            int c = row / g.rs;
            int r = (row / g.s) % g.r;
            int s = row % g.s;
            int qlo = g.qLow(s);
            int qhi = g.qHigh(s);
            for (int pp = 0; pp < g.p; pp++) {
                int ih = pp * g.sh - g.ph + r * g.dh;
                if (ih < 0 || ih >= g.h) {
                    continue;
                }
                int src = row * cols + colOff + pp * g.q;
                int dst = xOff + (c * g.h + ih) * g.w - g.pw + s * g.dw;
                for (int q = qlo; q < qhi; q++) {
                    dx[dst + q * g.sw] += dcol[src + q];
                }
            }
        }
    }

    /** Sizes of one convolution, and the valid output-column range per kernel column. */
    private static final class Geometry {
        final int n, c, h, w, k, r, s, p, q;
        final int sh, sw, ph, pw, dh, dw;
        final int pq, rs, crs, chw;

        Geometry(Shape xs, Shape ws, Shape ys, Conv2dParams prm) {
            n = xs.dim(0);
            c = xs.dim(1);
            h = xs.dim(2);
            w = xs.dim(3);
            k = ws.dim(0);
            r = ws.dim(2);
            s = ws.dim(3);
            p = ys.dim(2);
            q = ys.dim(3);
            sh = prm.strideH();
            sw = prm.strideW();
            ph = prm.padH();
            pw = prm.padW();
            dh = prm.dilationH();
            dw = prm.dilationW();
            pq = p * q;
            rs = r * s;
            crs = c * rs;
            chw = c * h * w;
        }

        /**
         * Images per GEMM call in forward and backward data: enough that a row of the product
         * spans about {@link Gemm#NC} columns, since short rows leave the vector loop half idle.
         * The grouping does not change any result: each output is summed over k in one order.
         */
        int imagesPerGemm() {
            return Math.max(1, Math.min(n, Gemm.NC / pq));
        }

        int groups(int imagesPerGroup) {
            return (n + imagesPerGroup - 1) / imagesPerGroup;
        }

        /** First output column q whose input column q·sw − pw + s·dw is ≥ 0. */
        int qLow(int sIdx) {
            int off = pw - sIdx * dw;
            return off <= 0 ? 0 : Math.min(q, (off + sw - 1) / sw);
        }

        /** One past the last output column q whose input column is < w. */
        int qHigh(int sIdx) {
            int lim = w - 1 + pw - sIdx * dw;
            return lim < 0 ? 0 : Math.min(q, lim / sw + 1);
        }
    }

    /**
     * Rows (c, r, s) of col for consecutive images from xOff on: row i, columns j0 .. j0+len over
     * (image, p, q).
     */
    private record Im2col(Geometry g, float[] x, int xOff) implements Gemm.RowSource {
        @Override
        public void packRow(int row, int j0, int len, float[] dst) {
            int c = row / g.rs;
            int r = (row / g.s) % g.r;
            int s = row % g.s;
            int qlo = g.qLow(s);
            int qhi = g.qHigh(s);
            int j = j0;
            int end = j0 + len;
            while (j < end) {
                int image = j / g.pq;
                int within = j - image * g.pq;
                int pp = within / g.q;
                int q0 = within - pp * g.q;
                int q1 = Math.min(g.q, q0 + end - j);
                int out = j - j0 - q0;
                int ih = pp * g.sh - g.ph + r * g.dh;
                if (ih < 0 || ih >= g.h || qlo >= qhi) {
                    Arrays.fill(dst, out + q0, out + q1, 0f);
                } else {
                    // Output columns [q0, q1) split into padding, pixels of x, padding.
                    int a = Math.min(Math.max(q0, qlo), q1);
                    int e = Math.max(Math.min(q1, qhi), a);
                    Arrays.fill(dst, out + q0, out + a, 0f);
                    int base = xOff + image * g.chw + (c * g.h + ih) * g.w - g.pw + s * g.dw;
                    // An empty run [a, e) may lie outside x (base + a < 0 or past the end): copy nothing.
                    if (e > a && g.sw == 1) {
                        System.arraycopy(x, base + a, dst, out + a, e - a);
                    } else {
                        for (int q = a; q < e; q++) {
                            dst[out + q] = x[base + q * g.sw];
                        }
                    }
                    Arrays.fill(dst, out + e, out + q1, 0f);
                }
                j += q1 - q0;
            }
        }
    }

    /** dy of consecutive images from n0 on as one matrix: row k, columns (image, p, q). */
    private record OutputColumns(Geometry g, float[] dy, int n0) implements Gemm.RowSource {
        @Override
        public void packRow(int k, int j0, int len, float[] dst) {
            int j = j0;
            int end = j0 + len;
            while (j < end) {
                int image = j / g.pq;
                int within = j - image * g.pq;
                int run = Math.min(g.pq - within, end - j);
                System.arraycopy(dy, ((n0 + image) * g.k + k) * g.pq + within, dst, j - j0, run);
                j += run;
            }
        }
    }

    /** colᵀ for one image: row (p, q), columns (c, r, s). */
    private record Im2colTransposed(Geometry g, float[] x, int xOff) implements Gemm.RowSource {
        @Override
        public void packRow(int row, int j0, int len, float[] dst) {
            int pp = row / g.q;
            int ih0 = pp * g.sh - g.ph;
            int iw0 = (row - pp * g.q) * g.sw - g.pw;
            // Walk (c, r, s) from column j0 with counters instead of dividing per element.
            int c = j0 / g.rs;
            int r = (j0 / g.s) % g.r;
            int s = j0 % g.s;
            for (int j = 0; j < len; ) {
                int ih = ih0 + r * g.dh;
                int run = Math.min(g.s - s, len - j);
                if (ih < 0 || ih >= g.h) {
                    Arrays.fill(dst, j, j + run, 0f);
                } else {
                    int rowBase = xOff + (c * g.h + ih) * g.w;
                    for (int t = 0; t < run; t++) {
                        int iw = iw0 + (s + t) * g.dw;
                        dst[j + t] = iw >= 0 && iw < g.w ? x[rowBase + iw] : 0f;
                    }
                }
                j += run;
                s = 0;
                if (++r == g.r) {
                    r = 0;
                    c++;
                }
            }
        }
    }
}
