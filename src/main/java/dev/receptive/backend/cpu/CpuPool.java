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
                if (mode == PoolMode.MAX) {
                    g.maxForward(y, x, plane);
                } else {
                    g.averageForward(y, x, plane);
                }
            }
        });
    }

    // dx, x: (N, C, H, W); dy, y: (N, C, P, Q)
    static void backward(CpuParallel par, PoolMode mode, float[] dx, float[] dy, float[] x, float[] y, Shape xs,
            Shape ys, Pool2dParams p) {
        Geometry g = new Geometry(xs, ys, p);
        par.forRange(g.planes, g.grain(), (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                // Overwrite, never accumulate: clear this plane of dx before windows add into it.
                Arrays.fill(dx, plane * g.inSize, (plane + 1) * g.inSize, 0f);
                if (mode == PoolMode.MAX) {
                    g.maxBackward(dx, dy, x, plane);
                } else {
                    g.averageBackward(dx, dy, plane);
                }
            }
        });
    }

    /** The geometry shared by every plane of one call, and the per-plane loops. */
    private static final class Geometry {
        final int planes;
        final int h;
        final int w;
        final int outH;
        final int outW;
        final int inSize;
        final int outSize;
        final Pool2dParams p;
        final float area;

        Geometry(Shape xs, Shape ys, Pool2dParams p) {
            this.planes = xs.dim(0) * xs.dim(1);
            this.h = xs.dim(2);
            this.w = xs.dim(3);
            this.outH = ys.dim(2);
            this.outW = ys.dim(3);
            this.inSize = h * w;
            this.outSize = outH * outW;
            this.p = p;
            this.area = p.windowH() * p.windowW();
        }

        int grain() {
            return Math.max(1, GRAIN / (inSize + outSize));
        }

        // The clipped window of output row op: rows [rowStart(op), rowEnd(op)).
        int rowStart(int op) {
            return Math.max(op * p.strideH() - p.padH(), 0);
        }

        int rowEnd(int op) {
            return Math.min(op * p.strideH() - p.padH() + p.windowH(), h);
        }

        int colStart(int oq) {
            return Math.max(oq * p.strideW() - p.padW(), 0);
        }

        int colEnd(int oq) {
            return Math.min(oq * p.strideW() - p.padW() + p.windowW(), w);
        }

        /** Flat index in x of the first maximum (row-major within the window) of window (op, oq). */
        int argmax(float[] x, int in, int op, int oq) {
            int r1 = rowEnd(op);
            int c0 = colStart(oq);
            int c1 = colEnd(oq);
            int best = in + rowStart(op) * w + c0;
            float max = x[best];
            for (int r = rowStart(op); r < r1; r++) {
                int row = in + r * w;
                for (int c = c0; c < c1; c++) {
                    // Strictly greater: ties keep the earlier position.
                    if (x[row + c] > max) {
                        max = x[row + c];
                        best = row + c;
                    }
                }
            }
            return best;
        }

        void maxForward(float[] y, float[] x, int plane) {
            int in = plane * inSize;
            int out = plane * outSize;
            for (int op = 0; op < outH; op++) {
                for (int oq = 0; oq < outW; oq++) {
                    y[out++] = x[argmax(x, in, op, oq)];
                }
            }
        }

        void averageForward(float[] y, float[] x, int plane) {
            int in = plane * inSize;
            int out = plane * outSize;
            for (int op = 0; op < outH; op++) {
                int r0 = rowStart(op);
                int r1 = rowEnd(op);
                for (int oq = 0; oq < outW; oq++) {
                    int c0 = colStart(oq);
                    int c1 = colEnd(oq);
                    float s = 0;
                    for (int r = r0; r < r1; r++) {
                        int row = in + r * w;
                        for (int c = c0; c < c1; c++) {
                            s += x[row + c];
                        }
                    }
                    y[out++] = s / area;
                }
            }
        }

        void maxBackward(float[] dx, float[] dy, float[] x, int plane) {
            int in = plane * inSize;
            int out = plane * outSize;
            for (int op = 0; op < outH; op++) {
                for (int oq = 0; oq < outW; oq++) {
                    dx[argmax(x, in, op, oq)] += dy[out++];
                }
            }
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
