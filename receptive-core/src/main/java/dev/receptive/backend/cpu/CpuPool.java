package dev.receptive.backend.cpu;

import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.tensor.Shape;
import java.util.Arrays;

/**
 * Max and average pooling over NCHW planes. Each (n, c) plane is independent, so work is split
 * over planes; within a plane the loops run in a fixed order, which keeps results independent
 * of the thread count even where overlapping windows accumulate into dx.
 *
 * <p>Window (p, q) covers rows p·sh − ph .. p·sh − ph + wh − 1 (likewise columns), clipped to
 * the input. Max ignores the clipped part; average divides by the full window area wh·ww
 * (padded zeros count, PyTorch's count_include_pad=True). Pool2dParams keeps padding at most
 * half the window, so every clipped window still holds at least one input element.
 */
final class CpuPool {
    /** Elements per parallel chunk, so that small tensors stay on one thread. */
    private static final int GRAIN = 16384;

    private CpuPool() {
    }

    // x: (N, C, H, W); y: (N, C, P, Q)
    static void forward(CpuParallel par, PoolMode mode, float[] y, float[] x, Shape xs, Shape ys, Pool2dParams p) {
        Geometry g = new Geometry(xs, ys, p);
        par.forRange(g.planes, g.grain(), (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                if (mode == PoolMode.MAX && g.isTwoByTwo()) {
                    g.maxForward2x2(y, x, plane);
                } else if (mode == PoolMode.MAX) {
                    g.maxForward(y, x, plane);
                } else {
                    g.averageForward(y, x, plane);
                }
            }
        });
    }

    // dx, x: (N, C, H, W); dy, y: (N, C, P, Q)
    // (vector: the Vector API kernels, or null)
    static void backward(CpuParallel par, PoolMode mode, float[] dx, float[] dy, float[] x, float[] y, Shape xs,
            Shape ys, Pool2dParams p, VectorKernels vector) {
        Geometry g = new Geometry(xs, ys, p);
        par.forRange(g.planes, g.grain(), (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                if (mode == PoolMode.MAX && g.isTwoByTwo()) {
                    g.maxBackward2x2(dx, dy, x, y, plane, vector);
                    continue;
                }
                // Overwrite, never accumulate: clear this plane of dx before windows add into it.
                Arrays.fill(dx, plane * g.inSize, (plane + 1) * g.inSize, 0f);
                if (mode == PoolMode.MAX) {
                    g.maxBackward(dx, dy, x, y, plane);
                } else {
                    g.averageBackward(dx, dy, plane);
                }
            }
        });
    }

    /**
     * One 2×2 window of max pooling's backward pass: its top-left input at i (rows w apart), its
     * output at o. dy goes to the first (row-major) input equal to y, or the first NaN when y is
     * NaN; the window's other inputs get 0.
     */
    static void window2x2Backward(float[] dx, float[] dy, float[] x, float[] y, int i, int o, int w) {
        float m = y[o];
        float g = dy[o];
        float a = x[i];
        float b = x[i + 1];
        float c = x[i + w];
        float d = x[i + w + 1];
        boolean ta = a == m || a != a;
        boolean tb = !ta && (b == m || b != b);
        boolean tc = !ta && !tb && (c == m || c != c);
        boolean td = !ta && !tb && !tc;
        if (td && !(d == m || d != d)) {
            throw new IllegalArgumentException("pool2dBackward: y = " + m + " is not the maximum of its window in x;"
                    + " pass the y that pool2dForward computed from this x");
        }
        dx[i] = ta ? g : 0f;
        dx[i + 1] = tb ? g : 0f;
        dx[i + w] = tc ? g : 0f;
        dx[i + w + 1] = td ? g : 0f;
    }

    /** Inputs of 2×2 windows at stride 2 that no window covers (an odd last row or column) get 0. */
    static void clearUncovered2x2(float[] dx, int in, int h, int w) {
        if (h % 2 != 0) {
            Arrays.fill(dx, in + (h - 1) * w, in + h * w, 0f);
        }
        if (w % 2 != 0) {
            for (int r = 0; r < h - h % 2; r++) {
                dx[in + r * w + w - 1] = 0f;
            }
        }
    }

    /**
     * The geometry shared by every plane of one call, and the per-plane loops. The forward loops
     * sweep a whole row of outputs per window offset (r, c), so the innermost loop is long and
     * branch-free; each output still sees its window in row-major order.
     */
    private static final class Geometry {
        final int planes;
        final int h;
        final int w;
        final int outH;
        final int outW;
        final int inSize;
        final int outSize;
        final int windowH;
        final int windowW;
        final int strideH;
        final int strideW;
        final int padH;
        final int padW;
        final float area;

        Geometry(Shape xs, Shape ys, Pool2dParams p) {
            this.planes = xs.dim(0) * xs.dim(1);
            this.h = xs.dim(2);
            this.w = xs.dim(3);
            this.outH = ys.dim(2);
            this.outW = ys.dim(3);
            this.inSize = h * w;
            this.outSize = outH * outW;
            this.windowH = p.windowH();
            this.windowW = p.windowW();
            this.strideH = p.strideH();
            this.strideW = p.strideW();
            this.padH = p.padH();
            this.padW = p.padW();
            this.area = windowH * windowW;
        }

        int grain() {
            return Math.max(1, GRAIN / (inSize + outSize));
        }

        // Window rows of output row op, clipped to the input: [rowStart, rowEnd).
        int rowStart(int op) {
            return Math.max(op * strideH - padH, 0);
        }

        int rowEnd(int op) {
            return Math.min(op * strideH - padH + windowH, h);
        }

        int colStart(int oq) {
            return Math.max(oq * strideW - padW, 0);
        }

        int colEnd(int oq) {
            return Math.min(oq * strideW - padW + windowW, w);
        }

        // Outputs oq whose window column c lands inside the input (0 ≤ oq·sw − pw + c < w): [first, end).
        int firstOutput(int c) {
            return Math.max(0, Math.floorDiv(padW - c + strideW - 1, strideW));
        }

        int endOutput(int c) {
            return Math.min(outW, Math.floorDiv(w - 1 + padW - c, strideW) + 1);
        }

        void maxForward(float[] y, float[] x, int plane) {
            for (int op = 0; op < outH; op++) {
                int out = plane * outSize + op * outW;
                Arrays.fill(y, out, out + outW, Float.NEGATIVE_INFINITY);
                for (int r = rowStart(op); r < rowEnd(op); r++) {
                    int row = plane * inSize + r * w - padW;
                    for (int c = 0; c < windowW; c++) {
                        int end = endOutput(c);
                        for (int oq = firstOutput(c); oq < end; oq++) {
                            // Math.max is branch-free and, like PyTorch, lets a NaN through.
                            y[out + oq] = Math.max(y[out + oq], x[row + oq * strideW + c]);
                        }
                    }
                }
            }
        }

        /** 2×2 windows at stride 2 without padding: they tile the input (an odd last row or column is left out). */
        boolean isTwoByTwo() {
            return windowH == 2 && windowW == 2 && strideH == 2 && strideW == 2 && padH == 0 && padW == 0;
        }

        // The common pooling, in straight-line code: max of each window, equal to maxForward's bits
        // (max is exact, and Math.max returns NaN when either side is NaN, in any order).
        void maxForward2x2(float[] y, float[] x, int plane) {
            for (int op = 0; op < outH; op++) {
                int out = plane * outSize + op * outW;
                int row = plane * inSize + 2 * op * w;
                for (int oq = 0; oq < outW; oq++) {
                    int i = row + 2 * oq;
                    y[out + oq] = Math.max(Math.max(x[i], x[i + 1]), Math.max(x[i + w], x[i + w + 1]));
                }
            }
        }

        // Each window writes its four dx values (dy at the first maximum, zeros elsewhere), so dx
        // needs no clearing but for an odd last row or column that no window covers.
        void maxBackward2x2(float[] dx, float[] dy, float[] x, float[] y, int plane, VectorKernels vector) {
            int in = plane * inSize;
            clearUncovered2x2(dx, in, h, w);
            for (int op = 0; op < outH; op++) {
                int out = plane * outSize + op * outW;
                int row = in + 2 * op * w;
                if (vector != null && vector.maxPool2x2BackwardRow(dx, dy, x, y, row, out, w, outW, in + inSize)) {
                    continue;
                }
                for (int oq = 0; oq < outW; oq++) {
                    window2x2Backward(dx, dy, x, y, row + 2 * oq, out + oq, w);
                }
            }
        }

        void averageForward(float[] y, float[] x, int plane) {
            for (int op = 0; op < outH; op++) {
                int out = plane * outSize + op * outW;
                Arrays.fill(y, out, out + outW, 0f);
                for (int r = rowStart(op); r < rowEnd(op); r++) {
                    int row = plane * inSize + r * w - padW;
                    for (int c = 0; c < windowW; c++) {
                        int end = endOutput(c);
                        for (int oq = firstOutput(c); oq < end; oq++) {
                            y[out + oq] += x[row + oq * strideW + c];
                        }
                    }
                }
                for (int oq = 0; oq < outW; oq++) {
                    y[out + oq] /= area;
                }
            }
        }

        void maxBackward(float[] dx, float[] dy, float[] x, float[] y, int plane) {
            int in = plane * inSize;
            int out = plane * outSize;
            for (int op = 0; op < outH; op++) {
                for (int oq = 0; oq < outW; oq++, out++) {
                    dx[firstMax(x, y[out], in, op, oq)] += dy[out];
                }
            }
        }

        /**
         * Flat index of the first input of window (op, oq), in row-major order, equal to the
         * window's maximum max = y (or the first NaN, which is what made y NaN). Stopping at the
         * first match is cheaper than tracking an argmax through unpredictable branches.
         */
        int firstMax(float[] x, float max, int in, int op, int oq) {
            int r1 = rowEnd(op);
            int c0 = colStart(oq);
            int c1 = colEnd(oq);
            for (int r = rowStart(op); r < r1; r++) {
                int row = in + r * w;
                for (int c = c0; c < c1; c++) {
                    float v = x[row + c];
                    if (v == max || v != v) {
                        return row + c;
                    }
                }
            }
            throw new IllegalArgumentException("pool2dBackward: y = " + max + " is not the maximum of its window in x;"
                    + " pass the y that pool2dForward computed from this x");
        }

        void averageBackward(float[] dx, float[] dy, int plane) {
            int in = plane * inSize;
            int out = plane * outSize;
            for (int op = 0; op < outH; op++) {
                int r0 = rowStart(op);
                int r1 = rowEnd(op);
                for (int oq = 0; oq < outW; oq++) {
                    int c0 = colStart(oq);
                    int c1 = colEnd(oq);
                    // Padded positions would take their share too, but they have no dx to receive it.
                    float share = dy[out++] / area;
                    for (int r = r0; r < r1; r++) {
                        int row = in + r * w;
                        for (int c = c0; c < c1; c++) {
                            dx[row + c] += share;
                        }
                    }
                }
            }
        }
    }
}
