package dev.receptive.backend;

/**
 * Direct-loop 2-D pooling in double precision, written straight from the formulas of
 * {@link Pool2dParams} and {@link Backend#pool2dBackward}: the slow reference the backends are
 * checked against. Arrays are NCHW with n·c planes of h×w inputs and outH×outW outputs.
 */
final class PoolReference {
    private final int planes;
    private final int h;
    private final int w;
    private final int outH;
    private final int outW;
    private final Pool2dParams p;

    PoolReference(int n, int c, int h, int w, Pool2dParams p) {
        this.planes = n * c;
        this.h = h;
        this.w = w;
        this.p = p;
        this.outH = (h + 2 * p.padH() - p.windowH()) / p.strideH() + 1;
        this.outW = (w + 2 * p.padW() - p.windowW()) / p.strideW() + 1;
    }

    int outH() {
        return outH;
    }

    int outW() {
        return outW;
    }

    // x: (N, C, H, W) → y: (N, C, P, Q)
    double[] forward(PoolMode mode, double[] x) {
        double[] y = new double[planes * outH * outW];
        for (int pl = 0; pl < planes; pl++) {
            for (int op = 0; op < outH; op++) {
                for (int oq = 0; oq < outW; oq++) {
                    double v;
                    if (mode == PoolMode.MAX) {
                        v = x[argmax(x, pl, op, oq)];
                    } else {
                        double s = 0;
                        for (int r = 0; r < p.windowH(); r++) {
                            for (int c = 0; c < p.windowW(); c++) {
                                int i = index(pl, op, oq, r, c);
                                s += i < 0 ? 0 : x[i]; // padded zeros count in the divisor
                            }
                        }
                        v = s / (p.windowH() * p.windowW());
                    }
                    y[(pl * outH + op) * outW + oq] = v;
                }
            }
        }
        return y;
    }

    // dy: (N, C, P, Q) → dx: (N, C, H, W)
    double[] backward(PoolMode mode, double[] dy, double[] x) {
        double[] dx = new double[planes * h * w];
        double area = p.windowH() * p.windowW();
        for (int pl = 0; pl < planes; pl++) {
            for (int op = 0; op < outH; op++) {
                for (int oq = 0; oq < outW; oq++) {
                    double g = dy[(pl * outH + op) * outW + oq];
                    if (mode == PoolMode.MAX) {
                        dx[argmax(x, pl, op, oq)] += g;
                        continue;
                    }
                    for (int r = 0; r < p.windowH(); r++) {
                        for (int c = 0; c < p.windowW(); c++) {
                            int i = index(pl, op, oq, r, c);
                            if (i >= 0) {
                                dx[i] += g / area;
                            }
                        }
                    }
                }
            }
        }
        return dx;
    }

    /** The first in-bounds position (row-major within the window) holding the window's maximum. */
    private int argmax(double[] x, int pl, int op, int oq) {
        int best = -1;
        for (int r = 0; r < p.windowH(); r++) {
            for (int c = 0; c < p.windowW(); c++) {
                int i = index(pl, op, oq, r, c);
                if (i >= 0 && (best < 0 || x[i] > x[best])) {
                    best = i;
                }
            }
        }
        return best;
    }

    /** Flat index of window element (r, c) of output (op, oq), or −1 when it falls in the padding. */
    private int index(int pl, int op, int oq, int r, int c) {
        int row = op * p.strideH() - p.padH() + r;
        int col = oq * p.strideW() - p.padW() + c;
        if (row < 0 || row >= h || col < 0 || col >= w) {
            return -1;
        }
        return (pl * h + row) * w + col;
    }
}
