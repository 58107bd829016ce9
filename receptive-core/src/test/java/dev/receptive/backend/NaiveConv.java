package dev.receptive.backend;

/** Direct-loop conv2d in double precision: the reference the fast backends are checked against. */
final class NaiveConv {
    final int n, c, h, w, k, r, s, p, q;
    final Conv2dParams prm;

    NaiveConv(int n, int c, int h, int w, int k, int r, int s, Conv2dParams prm) {
        this.n = n;
        this.c = c;
        this.h = h;
        this.w = w;
        this.k = k;
        this.r = r;
        this.s = s;
        this.prm = prm;
        this.p = Conv2dParams.outputSize(h, r, prm.strideH(), prm.padH(), prm.dilationH());
        this.q = Conv2dParams.outputSize(w, s, prm.strideW(), prm.padW(), prm.dilationW());
    }

    /** Visits every (input element, weight element, output element) triple the convolution multiplies. */
    private void each(Visitor v) {
        for (int in = 0; in < n; in++) {
            for (int kk = 0; kk < k; kk++) {
                for (int pp = 0; pp < p; pp++) {
                    for (int qq = 0; qq < q; qq++) {
                        int yi = ((in * k + kk) * p + pp) * q + qq;
                        for (int cc = 0; cc < c; cc++) {
                            for (int rr = 0; rr < r; rr++) {
                                int ih = pp * prm.strideH() - prm.padH() + rr * prm.dilationH();
                                if (ih < 0 || ih >= h) {
                                    continue;
                                }
                                for (int ss = 0; ss < s; ss++) {
                                    int iw = qq * prm.strideW() - prm.padW() + ss * prm.dilationW();
                                    if (iw < 0 || iw >= w) {
                                        continue;
                                    }
                                    v.visit(((in * c + cc) * h + ih) * w + iw, ((kk * c + cc) * r + rr) * s + ss, yi);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private interface Visitor {
        void visit(int xi, int wi, int yi);
    }

    double[] forward(double[] x, double[] wt, double[] b) {
        double[] y = new double[n * k * p * q];
        if (b != null) {
            for (int i = 0; i < y.length; i++) {
                y[i] = b[(i / (p * q)) % k];
            }
        }
        each((xi, wi, yi) -> y[yi] += x[xi] * wt[wi]);
        return y;
    }

    double[] backwardData(double[] dy, double[] wt) {
        double[] dx = new double[n * c * h * w];
        each((xi, wi, yi) -> dx[xi] += dy[yi] * wt[wi]);
        return dx;
    }

    double[] backwardFilter(double[] x, double[] dy) {
        double[] dw = new double[k * c * r * s];
        each((xi, wi, yi) -> dw[wi] += dy[yi] * x[xi]);
        return dw;
    }

    double[] backwardBias(double[] dy) {
        double[] db = new double[k];
        for (int i = 0; i < dy.length; i++) {
            db[(i / (p * q)) % k] += dy[i];
        }
        return db;
    }
}
