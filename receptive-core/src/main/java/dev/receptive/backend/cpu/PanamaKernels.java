package dev.receptive.backend.cpu;

import static dev.receptive.backend.cpu.VectorGemm.roundUp;

import dev.receptive.backend.AdamParams;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.cpu.VectorGemm.Tile;
import dev.receptive.tensor.Shape;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dense layers and convolutions on {@link VectorGemm}'s register-blocked tile. Only
 * {@link VectorKernels#load} names this class, reflectively, when the JVM has the Vector API.
 *
 * <p>Convolution without im2col: in an input padded to Hp × Wp, output (p, q) and filter tap
 * (c, r, s) meet at xpad[pos(p, q) + off(c, r, s)] with pos = p·sh·Wp + q·sw and off = c·Hp·Wp +
 * r·dh·Wp + s·dw. So yᵀ(pq, k) = Σ_crs xpad[pos(pq) + off(crs)] · wᵀ(crs, k), a product whose A
 * is read straight from the padded image through two offset tables. The data gradient is the
 * same product with the filters flipped and transposed, over dy padded by dilation·(kernel − 1)
 * − pad (at stride 1 only); the filter gradient runs the positions (of every image) as the reduction.
 */
final class PanamaKernels implements VectorKernels {
    /**
     * Fewest output channels for the vector convolution: channels are the tile's columns
     * ({@link Tile#nr}), and a data gradient into one channel (the first layer's) would use one
     * column in 32. The scalar path is faster there.
     */
    private static final int MIN_CHANNELS = 8;
    /** Images are split into at most this many fixed groups for the filter gradient (as the scalar path). */
    private static final int FILTER_GROUPS = 8;
    /** Images whose padded copies the filter gradient holds at once. */
    private static final int FILTER_CHUNK = 8;

    /** Buffers of the executing thread, for one piece of work at a time. */
    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);
    /** Buffers owned by the calling thread for the whole op; its workers read or fill them. */
    private static final ThreadLocal<Call> CALL = ThreadLocal.withInitial(Call::new);

    @Override
    public String description() {
        return "Vector API, " + vectorBits() + "-bit";
    }

    @Override
    public int vectorBits() {
        return VectorGemm.S.vectorBitSize();
    }

    // ---- dense --------------------------------------------------------------------------

    // y: (n, out) = x: (n, in) · wᵀ + b, computed as yᵀ = w · xᵀ so that w is read in place. Each
    // y[i, o] is the same chain of fused multiply-adds over in, from zero in increasing order, then
    // + b[o], on every path: an image's outputs do not depend on the batch it came in (a dot-product
    // path for small batches that summed in another order once made a predictor's answer change
    // with its batching).
    @Override
    public void denseForward(CpuParallel par, float[] y, float[] x, float[] w, float[] b, int n, int in, int out,
            boolean relu) {
        if (n < SMALL_BATCH) {
            // In groups of the 8 outputs smallBatch computes at once.
            par.forRange((out + 7) / 8, (from, to) -> {
                smallBatch(y, x, w, b, n, in, out, from * 8, Math.min(out, to * 8));
                if (relu) {
                    for (int i = 0; i < n; i++) {
                        for (int o = from * 8; o < Math.min(out, to * 8); o++) {
                            y[i * out + o] = Math.max(y[i * out + o], 0f);
                        }
                    }
                }
            });
            return;
        }
        Call call = CALL.get();
        float[] yt = call.floats(0, out * n);
        int[] wRows = call.ramp(0, out, in);
        int[] steps = call.ramp(1, in, 1);
        Tile t = Tile.forColumns(n);
        rowParts(par, t, out, (from, to) -> VectorGemm.blocked(t, out, from, to, 0, n, in, w, wRows, steps, x, steps,
                in, yt, 0, n, false, WORK.get().blocks));
        transpose(par, yt, out, n, y, b, relu);
    }

    /**
     * Below this batch the tile's 2·L columns (32 with AVX-512) would hold mostly padding: one image
     * alone used 1/32 of each FMA and took 2.4 ms for the seed network's 3136 → 1024 layer.
     */
    static final int SMALL_BATCH = 4;

    /**
     * y[i, o] for the outputs o in [from, to) of a batch under {@link #SMALL_BATCH}: the tile's
     * chain, element by element with scalar fused multiply-adds (so the same bits), eight
     * outputs at once so that eight independent chains keep the FMA units busy while w streams
     * through once per image.
     */
    private static void smallBatch(float[] y, float[] x, float[] w, float[] b, int n, int in, int out, int from,
            int to) {
        for (int i = 0; i < n; i++) {
            int xi = i * in;
            int yi = i * out;
            int o = from;
            for (; o + 8 <= to; o += 8) {
                int w0 = o * in;
                int w1 = w0 + in;
                int w2 = w1 + in;
                int w3 = w2 + in;
                int w4 = w3 + in;
                int w5 = w4 + in;
                int w6 = w5 + in;
                int w7 = w6 + in;
                float s0 = 0f;
                float s1 = 0f;
                float s2 = 0f;
                float s3 = 0f;
                float s4 = 0f;
                float s5 = 0f;
                float s6 = 0f;
                float s7 = 0f;
                for (int k = 0; k < in; k++) {
                    float v = x[xi + k];
                    s0 = Math.fma(w[w0 + k], v, s0);
                    s1 = Math.fma(w[w1 + k], v, s1);
                    s2 = Math.fma(w[w2 + k], v, s2);
                    s3 = Math.fma(w[w3 + k], v, s3);
                    s4 = Math.fma(w[w4 + k], v, s4);
                    s5 = Math.fma(w[w5 + k], v, s5);
                    s6 = Math.fma(w[w6 + k], v, s6);
                    s7 = Math.fma(w[w7 + k], v, s7);
                }
                y[yi + o] = b == null ? s0 : s0 + b[o];
                y[yi + o + 1] = b == null ? s1 : s1 + b[o + 1];
                y[yi + o + 2] = b == null ? s2 : s2 + b[o + 2];
                y[yi + o + 3] = b == null ? s3 : s3 + b[o + 3];
                y[yi + o + 4] = b == null ? s4 : s4 + b[o + 4];
                y[yi + o + 5] = b == null ? s5 : s5 + b[o + 5];
                y[yi + o + 6] = b == null ? s6 : s6 + b[o + 6];
                y[yi + o + 7] = b == null ? s7 : s7 + b[o + 7];
            }
            for (; o < to; o++) {
                int wo = o * in;
                float s = 0f;
                for (int k = 0; k < in; k++) {
                    s = Math.fma(w[wo + k], x[xi + k], s);
                }
                y[yi + o] = b == null ? s : s + b[o];
            }
        }
    }

    /** y: (n, out) = ctᵀ + b, from ct: (out, n); b may be null; then max(·, 0) (the ReLU kernel's) with relu. */
    private static void transpose(CpuParallel par, float[] ct, int out, int n, float[] y, float[] b, boolean relu) {
        par.forRange(n, Math.max(1, 16384 / Math.max(1, out)), (from, to) -> {
            for (int i = from; i < to; i++) {
                for (int o = 0; o < out; o++) {
                    float v = b == null ? ct[o * n + i] : ct[o * n + i] + b[o];
                    y[i * out + o] = relu ? Math.max(v, 0f) : v;
                }
            }
        });
    }

    // dx: (n, in) = dy · w;  dw: (out, in) (+)= dyᵀ · x;  db: (out) (+)= Σ_n dy
    @Override
    public void denseBackward(CpuParallel par, float[] dx, float[] dw, float[] db, float[] dy, float[] x, float[] w,
            int n, int in, int out, boolean accumulate) {
        Call call = CALL.get();
        if (dx != null) {
            // Straight as dy · w: rows of w are the product's B, read along their length. (As dxᵀ =
            // wᵀ · dyᵀ, reading w in place down its columns, every step of the reduction touched a
            // new cache line of w: 13% slower at batch 256.) Each dx is the same chain of FMAs.
            int[] dyRows = call.ramp(0, n, out);
            int[] steps = call.ramp(1, out, 1);
            int[] wRows = call.ramp(2, out, in);
            Tile t = Tile.forColumns(in);
            columnParts(par, t, in, (from, to) -> VectorGemm.blocked(t, n, 0, n, from, to, out, dy, dyRows, steps, w,
                    wRows, 1, dx, 0, in, false, WORK.get().blocks));
        }
        int[] columnsOfDy = call.ramp(0, out, 1);
        int[] dyRows = call.ramp(1, n, out);
        int[] xRows = call.ramp(2, n, in);
        Tile t = Tile.forColumns(in);
        columnParts(par, t, in, (from, to) -> VectorGemm.blocked(t, out, 0, out, from, to, n, dy, columnsOfDy, dyRows,
                x, xRows, 1, dw, 0, in, accumulate, WORK.get().blocks));
        if (db != null) {
            CpuDense.biasGradient(par, db, dy, n, out, accumulate);
        }
    }

    // ---- conv2d -------------------------------------------------------------------------

    @Override
    public boolean conv2dForward(CpuParallel par, float[] y, float[] x, float[] w, float[] b, Shape xs, Shape ws,
            Shape ys, Conv2dParams p, boolean relu) {
        if (ws.dim(0) < MIN_CHANNELS) {
            return false;
        }
        Plan plan = new Plan(xs.dim(0), xs.dim(1), xs.dim(2), xs.dim(3), ws.dim(0), ws.dim(2), ws.dim(3), p.padH(),
                p.padW(), p.strideH(), p.strideW(), p.dilationH(), p.dilationW());
        Call call = CALL.get();
        plan.forwardImages(par, x, w, y, b, relu, call);
        return true;
    }

    @Override
    public boolean conv2dBackwardData(CpuParallel par, float[] dx, float[] dy, float[] w, Shape xs, Shape ws,
            Shape ys, Conv2dParams p) {
        int r = ws.dim(2);
        int s = ws.dim(3);
        int padH = p.dilationH() * (r - 1) - p.padH();
        int padW = p.dilationW() * (s - 1) - p.padW();
        if (p.strideH() != 1 || p.strideW() != 1 || padH < 0 || padW < 0 || ws.dim(1) < MIN_CHANNELS) {
            return false;
        }
        int k = ws.dim(0);
        int c = ws.dim(1);
        // The data gradient is the forward convolution of dy, padded by dilation·(kernel − 1) − pad,
        // with wf[c, k, r, s] = w[k, c, R−1−r, S−1−s].
        Call call = CALL.get();
        int size = k * c * r * s;
        float[] wf = call.floats(0, size);
        for (int kk = 0; kk < k; kk++) {
            for (int cc = 0; cc < c; cc++) {
                int src = (kk * c + cc) * r * s;
                int dst = (cc * k + kk) * r * s;
                for (int rs = 0; rs < r * s; rs++) {
                    wf[dst + rs] = w[src + r * s - 1 - rs];
                }
            }
        }
        Plan plan = new Plan(ys.dim(0), k, ys.dim(2), ys.dim(3), c, r, s, padH, padW, 1, 1, p.dilationH(),
                p.dilationW());
        plan.forwardImages(par, dy, wf, dx, null, false, call);
        return true;
    }

    @Override
    public boolean conv2dBackwardFilter(CpuParallel par, float[] dw, float[] x, float[] dy, Shape xs, Shape ws,
            Shape ys, Conv2dParams p, boolean accumulate) {
        Plan plan = new Plan(xs.dim(0), xs.dim(1), xs.dim(2), xs.dim(3), ws.dim(0), ws.dim(2), ws.dim(3), p.padH(),
                p.padW(), p.strideH(), p.strideW(), p.dilationH(), p.dilationW());
        Call call = CALL.get();
        plan.filterGradient(par, dw, x, dy, plan.offsets(call.ints(0, plan.crs)), accumulate, call);
        return true;
    }

    // db: (K) (+)= Σ dy: (N, K, P, Q); each plane summed in vector lanes, the planes in double
    @Override
    public void conv2dBackwardBias(CpuParallel par, float[] db, float[] dy, int n, int k, int pq, boolean accumulate) {
        par.forRange(k, 8, (from, to) -> {
            for (int f = from; f < to; f++) {
                double s = accumulate ? db[f] : 0;
                for (int i = 0; i < n; i++) {
                    s += planeSum(dy, (i * k + f) * pq, pq);
                }
                db[f] = (float) s;
            }
        });
    }

    private static float planeSum(float[] a, int from, int len) {
        FloatVector acc = FloatVector.zero(VectorGemm.S);
        int i = 0;
        for (int upper = VectorGemm.S.loopBound(len); i < upper; i += VectorGemm.L) {
            acc = acc.add(FloatVector.fromArray(VectorGemm.S, a, from + i));
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            s += a[from + i];
        }
        return s;
    }

    // ---- max pooling --------------------------------------------------------------------

    // L / 2 windows per step: a vector's lanes hold the windows' top inputs (a, b pairs) or their
    // bottom inputs (c, d pairs); y and dy are spread to both lanes of their window. Every vector
    // here has the preferred shape, as in the other kernels: on JDK 17 a second shape anywhere in
    // the process made the shared store code generic, and training ten times slower.
    private static final VectorSpecies<Float> S = VectorGemm.S;
    private static final int WINDOWS = VectorGemm.L / 2;
    private static final VectorShuffle<Float> SPREAD = VectorShuffle.fromOp(S, i -> i / 2);
    private static final VectorShuffle<Float> LEFT = VectorShuffle.fromOp(S, i -> i & ~1);
    private static final VectorShuffle<Float> RIGHT = VectorShuffle.fromOp(S, i -> i | 1);
    /** 1 in the lanes of b and d, the second input of each window row. */
    private static final FloatVector RIGHT_LANES = FloatVector.zero(S).blend(1f, VectorMask.fromLong(S, 0xAAAAAAAAL));

    /** 0, 1, 2, ... in the lanes. */
    private static final FloatVector LANES = FloatVector.zero(S).addIndex(1);

    // Branch-free: the scalar kernel's branches on which input is the maximum mispredict about
    // every other window. The hits are kept as 0/1 floats, since JDK 17 compiles logic on masks
    // to slow generic code. With q ≥ L / 2 the last step may overlap the one before it, which
    // writes the same values again; with fewer windows one step covers the row pair, its lanes
    // past 2q read inputs of other windows and write zeros there: into this row pair's bottom row
    // before its own store, into an uncovered last column or row (zero anyway) or into the next
    // row pair, which comes later. Never into the next plane, which another thread may own.
    @Override
    public boolean maxPool2x2BackwardRow(float[] dx, float[] dy, float[] x, float[] y, int row, int out, int w,
            int q, int planeEnd) {
        int c0 = Math.max(0, q - WINDOWS);
        if (row + 2 * c0 + w + VectorGemm.L > planeEnd || out + c0 + VectorGemm.L > y.length) {
            return false;
        }
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector valid = q >= WINDOWS ? one : zero.blend(one, LANES.compare(VectorOperators.LT, 2 * q));
        FloatVector invalid = one.sub(valid);
        for (int j = 0; j < q; j += WINDOWS) {
            int c = Math.min(j, c0);
            int i = row + 2 * c;
            FloatVector top = FloatVector.fromArray(S, x, i);
            FloatVector bottom = FloatVector.fromArray(S, x, i + w);
            FloatVector m = FloatVector.fromArray(S, y, out + c).rearrange(SPREAD);
            FloatVector t = zero.blend(valid, top.compare(VectorOperators.EQ, m).or(top.test(VectorOperators.IS_NAN)));
            FloatVector u =
                    zero.blend(valid, bottom.compare(VectorOperators.EQ, m).or(bottom.test(VectorOperators.IS_NAN)));
            // Per window, on both of its lanes: a hit, b hit, c hit, d hit.
            FloatVector a = t.rearrange(LEFT);
            FloatVector b = t.rearrange(RIGHT);
            FloatVector cc = u.rearrange(LEFT);
            FloatVector d = u.rearrange(RIGHT);
            FloatVector ab = a.max(b);
            if (ab.max(cc).max(d).max(invalid).reduceLanes(VectorOperators.MIN) == 0f) {
                throw new IllegalArgumentException("pool2dBackward: some y is not the maximum of its window in x;"
                        + " pass the y that pool2dForward computed from this x");
            }
            // The first hit of each window: a; b without a; c without a or b; d without a, b or c.
            FloatVector firstTop = t.mul(one.sub(a.mul(RIGHT_LANES)));
            FloatVector firstBottom = u.mul(one.sub(ab)).mul(one.sub(cc.mul(RIGHT_LANES)));
            FloatVector g = FloatVector.fromArray(S, dy, out + c).rearrange(SPREAD);
            zero.blend(g, firstTop.compare(VectorOperators.GT, 0f)).intoArray(dx, i);
            zero.blend(g, firstBottom.compare(VectorOperators.GT, 0f)).intoArray(dx, i + w);
        }
        return true;
    }

    // dx = y > 0 ? dy : 0 (a NaN y gives 0, as the scalar kernel)
    @Override
    public void reluBackward(CpuParallel par, float[] dx, float[] dy, float[] y, int n) {
        par.forRange(n, 16384, (from, to) -> {
            FloatVector zero = FloatVector.zero(VectorGemm.S);
            int i = from;
            for (int upper = from + VectorGemm.S.loopBound(to - from); i < upper; i += VectorGemm.L) {
                FloatVector g = FloatVector.fromArray(VectorGemm.S, dy, i);
                zero.blend(g, FloatVector.fromArray(VectorGemm.S, y, i).compare(VectorOperators.GT, 0f)).intoArray(dx, i);
            }
            for (; i < to; i++) {
                dx[i] = y[i] > 0 ? dy[i] : 0f;
            }
        });
    }

    // w, dw, m, v: n elements. CpuOptimizers.adam lane by lane: each product, sum, square root and
    // quotient rounded on its own in the same order (no fused multiply-add), so the bits agree.
    @Override
    public void adamUpdate(CpuParallel par, float[] w, float[] dw, float[] m, float[] v, int n, AdamParams p) {
        float lr = p.lr();
        float beta2 = p.beta2();
        float eps = p.eps();
        float l2 = p.decoupled() ? 0f : p.weightDecay();
        float decay = p.decoupled() ? 1f - lr * p.weightDecay() : 1f;
        float lerpWeight = 1f - p.beta1();
        float oneMinusLerp = 1f - lerpWeight;
        float oneMinusBeta2 = 1f - beta2;
        float stepSize = lr / p.biasCorrection1();
        float bc2Sqrt = (float) Math.sqrt(p.biasCorrection2());
        boolean lowLerp = lerpWeight < 0.5f;
        par.forRange(n, 16384, (from, to) -> {
            int i = from;
            for (int upper = from + VectorGemm.S.loopBound(to - from); i < upper; i += VectorGemm.L) {
                FloatVector wi = FloatVector.fromArray(VectorGemm.S, w, i);
                FloatVector g = FloatVector.fromArray(VectorGemm.S, dw, i);
                if (l2 != 0) {
                    g = g.add(wi.mul(l2));
                }
                wi = wi.mul(decay);
                FloatVector mi = FloatVector.fromArray(VectorGemm.S, m, i);
                mi = lowLerp ? mi.add(g.sub(mi).mul(lerpWeight)) : g.sub(g.sub(mi).mul(oneMinusLerp));
                FloatVector vi = FloatVector.fromArray(VectorGemm.S, v, i).mul(beta2).add(g.mul(oneMinusBeta2).mul(g));
                mi.intoArray(m, i);
                vi.intoArray(v, i);
                FloatVector denom = vi.lanewise(VectorOperators.SQRT).div(bc2Sqrt).add(eps);
                wi.sub(mi.mul(stepSize).div(denom)).intoArray(w, i);
            }
            for (; i < to; i++) {
                float wi = w[i];
                float g = l2 != 0 ? dw[i] + l2 * wi : dw[i];
                wi = wi * decay;
                float mi = m[i];
                mi = lowLerp ? mi + lerpWeight * (g - mi) : g - (g - mi) * oneMinusLerp;
                float vi = v[i] * beta2 + oneMinusBeta2 * g * g;
                m[i] = mi;
                v[i] = vi;
                float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
                w[i] = wi - stepSize * mi / denom;
            }
        });
    }

    /** One convolution: sizes, padded sizes and the loops over images. */
    private static final class Plan {
        final int n, c, h, w, k, r, s, ph, pw, sh, sw, dh, dw;
        final int p, q, hp, wp, crs;

        Plan(int n, int c, int h, int w, int k, int r, int s, int ph, int pw, int sh, int sw, int dh, int dw) {
            this.n = n;
            this.c = c;
            this.h = h;
            this.w = w;
            this.k = k;
            this.r = r;
            this.s = s;
            this.ph = ph;
            this.pw = pw;
            this.dh = dh;
            this.dw = dw;
            this.hp = h + 2 * ph;
            this.wp = w + 2 * pw;
            this.sh = sh;
            this.sw = sw;
            this.p = (hp - dh * (r - 1) - 1) / sh + 1;
            this.q = (wp - dw * (s - 1) - 1) / sw + 1;
            this.crs = c * r * s;
        }

        /** off[(c, r, s)] = c·Hp·Wp + r·dh·Wp + s·dw: where tap (c, r, s) of position 0 is in xpad. */
        int[] offsets(int[] off) {
            int i = 0;
            for (int cc = 0; cc < c; cc++) {
                for (int rr = 0; rr < r; rr++) {
                    for (int ss = 0; ss < s; ss++) {
                        off[i++] = cc * hp * wp + rr * dh * wp + ss * dw;
                    }
                }
            }
            return off;
        }

        /**
         * out: (N, K, P, Q) = a: (K, C·R·S) ⊛ x: (N, C, H, W) + bias, as outᵀ(pq, k) = Σ_crs
         * xpad[pos(pq) + off(crs)] · aᵀ(crs, k) with pos(p, q) = p·Wp + q: output positions are the
         * tile's rows (one broadcast each) and filters its columns, read from aᵀ packed once per
         * call, so every vector load is aligned.
         */
        void forwardImages(CpuParallel par, float[] x, float[] a, float[] out, float[] bias, boolean relu,
                Call call) {
            Tile t = Tile.forColumns(k);
            int nr = t.nr;
            int kr = roundUp(k, nr);
            int pq = p * q;
            int rows = roundUp(pq, t.mr);
            // aᵀ in panels of the tile's nr columns, each crs × nr and contiguous: with narrow
            // vectors (nr = 8 at 128 bits) rows of the whole aᵀ would put every step of the
            // reduction on a new cache line.
            float[] at = call.floats(1, crs * kr);
            if (kr > k) {
                Arrays.fill(at, 0, crs * kr, 0f);
            }
            for (int kk = 0; kk < k; kk++) {
                int panel = kk / nr * crs * nr + kk % nr;
                for (int i = 0; i < crs; i++) {
                    at[panel + i * nr] = a[kk * crs + i];
                }
            }
            int[] off = offsets(call.ints(0, crs));
            int[] atRows = call.ramp(1, crs, nr);
            int[] positions = call.ints(2, pq);
            for (int pp = 0; pp < p; pp++) {
                for (int qq = 0; qq < q; qq++) {
                    positions[pp * q + qq] = pp * sh * wp + qq * sw;
                }
            }
            par.forRange(n, (from, to) -> {
                Work work = WORK.get();
                int stride = c * hp * wp;
                float[] xpad = work.paddedImages(this, 1, stride);
                float[] yt = work.floats(1, rows * kr);
                for (int image = from; image < to; image++) {
                    pad(x, image, xpad, 0, stride);
                    // Column panels outside: one panel of the filters serves every position tile in turn.
                    for (int jt = 0; jt < kr; jt += nr) {
                        for (int i0 = 0; i0 < pq; i0 += t.mr) {
                            VectorGemm.tile(t, crs, xpad, positions, i0, pq - 1, off, 0, at, atRows, jt * crs, yt,
                                    i0 * kr + jt, kr, false);
                        }
                    }
                    for (int kk = 0; kk < k; kk++) {
                        float bk = bias == null ? 0f : bias[kk];
                        int dst = (image * k + kk) * pq;
                        if (relu) {
                            // The same max as the ReLU kernel's, so the same bits as the two ops.
                            for (int i = 0; i < pq; i++) {
                                out[dst + i] = Math.max(yt[i * kr + kk] + bk, 0f);
                            }
                        } else {
                            for (int i = 0; i < pq; i++) {
                                out[dst + i] = yt[i * kr + kk] + bk;
                            }
                        }
                    }
                }
            });
        }

        /**
         * dw: (K, C·R·S) (+)= Σ_n Σ_(p,q) dy[n, k, p, q] · xpad_n[off(crs) + p·Wp + q], as the
         * product C(crs, k) = A·B with A(crs, (image, p, q)) read from the padded images and
         * B((image, p, q), k) = dy transposed. Fixed groups of images in fixed chunks, groups
         * added in order: the result does not depend on the thread count.
         */
        void filterGradient(CpuParallel par, float[] dwOut, float[] x, float[] dy, int[] off, boolean accumulate,
                Call call) {
            int groups = Math.min(FILTER_GROUPS, n);
            Tile t = Tile.forColumns(k);
            int kr = roundUp(k, t.nr);
            int crsr = roundUp(crs, t.mr);
            int part = crsr * kr;
            float[] partials = call.floats(1, groups * part);
            int pq = p * q;
            par.forRange(groups, (from, to) -> {
                Work work = WORK.get();
                int stride = c * hp * wp;
                float[] xpads = work.paddedImages(this, FILTER_CHUNK, stride);
                float[] dyt = work.floats(1, FILTER_CHUNK * pq * kr);
                int[] aK = work.ints(0, FILTER_CHUNK * pq);
                int[] bK = work.ints(1, FILTER_CHUNK * pq);
                for (int grp = from; grp < to; grp++) {
                    int n0 = (int) ((long) n * grp / groups);
                    int n1 = (int) ((long) n * (grp + 1) / groups);
                    for (int c0 = n0; c0 < n1; c0 += FILTER_CHUNK) {
                        int images = Math.min(FILTER_CHUNK, n1 - c0);
                        int len = images * pq;
                        for (int i = 0; i < images; i++) {
                            pad(x, c0 + i, xpads, i * stride, stride);
                            transpose(dy, c0 + i, dyt, i * pq * t.nr, FILTER_CHUNK * pq * t.nr, t.nr, kr);
                            for (int pp = 0; pp < p; pp++) {
                                for (int qq = 0; qq < q; qq++) {
                                    int kk = i * pq + pp * q + qq;
                                    aK[kk] = i * stride + pp * sh * wp + qq * sw;
                                    bK[kk] = kk * t.nr;
                                }
                            }
                        }
                        for (int i0 = 0; i0 < crs; i0 += t.mr) {
                            for (int jt = 0; jt < kr; jt += t.nr) {
                                VectorGemm.tile(t, len, xpads, off, i0, crs - 1, aK, 0, dyt, bK,
                                        jt / t.nr * FILTER_CHUNK * pq * t.nr, partials,
                                        grp * part + i0 * kr + jt, kr, c0 > n0);
                            }
                        }
                    }
                }
            });
            par.forRange(k * crs, 4096, (from, to) -> {
                for (int i = from; i < to; i++) {
                    int kk = i / crs;
                    int at = (i - kk * crs) * kr + kk;
                    float sum = partials[at];
                    for (int grp = 1; grp < groups; grp++) {
                        sum += partials[grp * part + at];
                    }
                    dwOut[i] = accumulate ? dwOut[i] + sum : sum;
                }
            });
        }

        /**
         * Copies image i of x: (N, C, H, W) into the inside of xpad[at ..]: (C, Hp, Wp), whose
         * zero borders {@link Work#paddedImages} keeps.
         */
        void pad(float[] x, int image, float[] xpad, int at, int stride) {
            for (int cc = 0; cc < c; cc++) {
                for (int y = 0; y < h; y++) {
                    System.arraycopy(x, ((image * c + cc) * h + y) * w, xpad, at + (cc * hp + y + ph) * wp + pw, w);
                }
            }
        }

        /** What makes two padded layouts the same: where the insides are, and how many images. */
        boolean sameLayout(Plan o) {
            return o.c == c && o.h == h && o.w == w && o.ph == ph && o.pw == pw;
        }

        /**
         * dy of one image transposed into panels of nr channels: dyt[at + panel·stride + (p·Q + q)·nr
         * + k mod nr] = dy[image, k, p, q] with panel = k / nr, zero for K ≤ k &lt; kr. Each panel's rows
         * are contiguous, so a step of the reduction reads one cache line at any vector width.
         */
        void transpose(float[] dy, int image, float[] dyt, int at, int stride, int nr, int kr) {
            int pq = p * q;
            if (kr > k) {
                int last = at + (kr / nr - 1) * stride;
                Arrays.fill(dyt, last, last + pq * nr, 0f);
            }
            for (int kk = 0; kk < k; kk++) {
                int src = (image * k + kk) * pq;
                int dst = at + kk / nr * stride + kk % nr;
                for (int i = 0; i < pq; i++) {
                    dyt[dst + i * nr] = dy[src + i];
                }
            }
        }
    }

    // ---- splitting and buffers ----------------------------------------------------------

    private static void rowParts(CpuParallel par, Tile t, int m, CpuParallel.RangeBody body) {
        int tiles = (m + t.mr - 1) / t.mr;
        par.forRange(tiles, (from, to) -> body.run(from * t.mr, Math.min(m, to * t.mr)));
    }

    private static void columnParts(CpuParallel par, Tile t, int n, CpuParallel.RangeBody body) {
        int tiles = (n + t.nr - 1) / t.nr;
        par.forRange(tiles, (from, to) -> body.run(from * t.nr, Math.min(n, to * t.nr)));
    }

    /** Growable numbered buffers. */
    private static class Buffers {
        private final float[][] floats = new float[2][0];
        private final int[][] ints = new int[3][0];

        float[] floats(int slot, int size) {
            if (floats[slot].length < size) {
                floats[slot] = new float[size];
            }
            return floats[slot];
        }

        int[] ints(int slot, int size) {
            if (ints[slot].length < size) {
                ints[slot] = new int[size];
            }
            return ints[slot];
        }

        /** ints(slot) holding {0, step, 2·step, ...}, n entries. */
        int[] ramp(int slot, int n, int step) {
            int[] t = ints(slot, n);
            for (int i = 0; i < n; i++) {
                t[i] = i * step;
            }
            return t;
        }
    }

    private static final class Work extends Buffers {
        final VectorGemm.Blocks blocks = new VectorGemm.Blocks();
        /** The padded-image buffer, and the layout whose borders it holds as zeros. */
        private float[] padded = new float[0];
        private Plan paddedLayout;
        private int paddedImages;

        /**
         * A buffer for {@code images} padded images of plan's layout, {@code stride} floats each,
         * whose borders are zero: cleared only when the layout changes, since {@link Plan#pad}
         * writes nothing but the insides (9% of conv2's forward time went to clearing them).
         */
        float[] paddedImages(Plan plan, int images, int stride) {
            int size = images * stride;
            if (padded.length < size) {
                padded = new float[size];
                paddedLayout = null;
            }
            if (paddedLayout == null || !paddedLayout.sameLayout(plan) || paddedImages != images) {
                Arrays.fill(padded, 0, size, 0f);
                paddedLayout = plan;
                paddedImages = images;
            }
            return padded;
        }
    }

    private static final class Call extends Buffers {
    }
}
