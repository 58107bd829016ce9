package dev.receptive.backend;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * Checks every argument of the op contract in one place, then calls the backend's hook. Hooks
 * receive open tensors of this backend whose shapes fit; they only compute.
 */
public abstract class AbstractBackend implements Backend {
    // Op names per activation, made once: the hot path builds no strings.
    private static final String[] ACTIVATION_FORWARD = opNames("activationForward");
    private static final String[] ACTIVATION_BACKWARD = opNames("activationBackward");

    private static String[] opNames(String op) {
        Activation[] all = Activation.values();
        String[] names = new String[all.length];
        for (Activation a : all) {
            names[a.ordinal()] = op + "(" + a + ")";
        }
        return names;
    }

    // ---- memory -------------------------------------------------------------------------

    @Override
    public final Tensor upload(float[] data, Shape shape) {
        if (data.length != shape.size()) {
            throw new IllegalArgumentException("upload: " + data.length + " values do not fill shape " + shape);
        }
        Tensor t = allocate(shape);
        uploadImpl(t, data);
        return t;
    }

    @Override
    public final void upload(Tensor dst, float[] data) {
        own("upload", dst);
        if (data.length != dst.size()) {
            throw new IllegalArgumentException("upload: " + data.length + " values do not fill tensor " + dst.shape());
        }
        uploadImpl(dst, data);
    }

    @Override
    public final float[] download(Tensor src) {
        own("download", src);
        float[] out = new float[src.size()];
        downloadImpl(src, out);
        return out;
    }

    @Override
    public final void download(Tensor src, float[] dst) {
        own("download", src);
        if (dst.length != src.size()) {
            throw new IllegalArgumentException("download: tensor " + src.shape() + " does not fit " + dst.length + " values");
        }
        downloadImpl(src, dst);
    }

    @Override
    public final void copy(Tensor dst, Tensor src) {
        own("copy", dst, src);
        sameSize("copy", "dst", dst, src);
        copyImpl(dst, src);
    }

    @Override
    public final void fill(Tensor dst, float value) {
        own("fill", dst);
        fillImpl(dst, value);
    }

    protected abstract void uploadImpl(Tensor dst, float[] data);

    protected abstract void downloadImpl(Tensor src, float[] dst);

    protected abstract void copyImpl(Tensor dst, Tensor src);

    protected abstract void fillImpl(Tensor dst, float value);

    // ---- conv2d -------------------------------------------------------------------------

    @Override
    public final void conv2dForward(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams p) {
        String op = "conv2dForward";
        own(op, y, x, w);
        expect(op, "y", p.outputShape(op, x.shape(), w.shape()), y);
        if (b != null) {
            own(op, b);
            expect(op, "b", Shape.of(w.shape().dim(0)), b);
        }
        conv2dForwardImpl(y, x, w, b, p);
    }

    @Override
    public final void conv2dBackwardData(Tensor dx, Tensor dy, Tensor w, Conv2dParams p) {
        String op = "conv2dBackwardData";
        own(op, dx, dy, w);
        expect(op, "dy", p.outputShape(op, dx.shape(), w.shape()), dy);
        conv2dBackwardDataImpl(dx, dy, w, p);
    }

    @Override
    public final void conv2dBackwardFilter(Tensor dw, Tensor x, Tensor dy, Conv2dParams p, boolean accumulate) {
        String op = "conv2dBackwardFilter";
        own(op, dw, x, dy);
        expect(op, "dy", p.outputShape(op, x.shape(), dw.shape()), dy);
        conv2dBackwardFilterImpl(dw, x, dy, p, accumulate);
    }

    @Override
    public final void conv2dBackwardBias(Tensor db, Tensor dy, boolean accumulate) {
        String op = "conv2dBackwardBias";
        own(op, db, dy);
        rank(op, "dy", 4, dy);
        expect(op, "db", Shape.of(dy.shape().dim(1)), db);
        conv2dBackwardBiasImpl(db, dy, accumulate);
    }

    protected abstract void conv2dForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams p);

    protected abstract void conv2dBackwardDataImpl(Tensor dx, Tensor dy, Tensor w, Conv2dParams p);

    protected abstract void conv2dBackwardFilterImpl(Tensor dw, Tensor x, Tensor dy, Conv2dParams p, boolean accumulate);

    protected abstract void conv2dBackwardBiasImpl(Tensor db, Tensor dy, boolean accumulate);

    // ---- pooling ------------------------------------------------------------------------

    @Override
    public final void pool2dForward(PoolMode mode, Tensor y, Tensor x, Pool2dParams p) {
        String op = "pool2dForward";
        own(op, y, x);
        expect(op, "y", p.outputShape(op, x.shape()), y);
        pool2dForwardImpl(mode, y, x, p);
    }

    @Override
    public final void pool2dBackward(PoolMode mode, Tensor dx, Tensor dy, Tensor x, Tensor y, Pool2dParams p) {
        String op = "pool2dBackward";
        own(op, dx, dy, x, y);
        expect(op, "dx", x.shape(), dx);
        Shape out = p.outputShape(op, x.shape());
        expect(op, "y", out, y);
        expect(op, "dy", out, dy);
        pool2dBackwardImpl(mode, dx, dy, x, y, p);
    }

    protected abstract void pool2dForwardImpl(PoolMode mode, Tensor y, Tensor x, Pool2dParams p);

    protected abstract void pool2dBackwardImpl(PoolMode mode, Tensor dx, Tensor dy, Tensor x, Tensor y, Pool2dParams p);

    // ---- activations and softmax --------------------------------------------------------

    @Override
    public final void activationForward(Activation f, Tensor y, Tensor x) {
        String op = ACTIVATION_FORWARD[f.ordinal()];
        own(op, y, x);
        expect(op, "y", x.shape(), y);
        activationForwardImpl(f, y, x);
    }

    @Override
    public final void activationBackward(Activation f, Tensor dx, Tensor dy, Tensor y) {
        String op = ACTIVATION_BACKWARD[f.ordinal()];
        own(op, dx, dy, y);
        expect(op, "dy", y.shape(), dy);
        expect(op, "dx", y.shape(), dx);
        activationBackwardImpl(f, dx, dy, y);
    }

    @Override
    public final void softmaxForward(Tensor y, Tensor x) {
        String op = "softmaxForward";
        own(op, y, x);
        rankAtLeast(op, "x", 2, x);
        expect(op, "y", x.shape(), y);
        softmaxForwardImpl(y, x, false);
    }

    @Override
    public final void logSoftmaxForward(Tensor y, Tensor x) {
        String op = "logSoftmaxForward";
        own(op, y, x);
        rankAtLeast(op, "x", 2, x);
        expect(op, "y", x.shape(), y);
        softmaxForwardImpl(y, x, true);
    }

    @Override
    public final void softmaxBackward(Tensor dx, Tensor dy, Tensor y) {
        String op = "softmaxBackward";
        own(op, dx, dy, y);
        rankAtLeast(op, "y", 2, y);
        expect(op, "dy", y.shape(), dy);
        expect(op, "dx", y.shape(), dx);
        softmaxBackwardImpl(dx, dy, y);
    }

    protected abstract void activationForwardImpl(Activation f, Tensor y, Tensor x);

    protected abstract void activationBackwardImpl(Activation f, Tensor dx, Tensor dy, Tensor y);

    /** Softmax over the features of each row, or log-softmax when {@code log}. */
    protected abstract void softmaxForwardImpl(Tensor y, Tensor x, boolean log);

    protected abstract void softmaxBackwardImpl(Tensor dx, Tensor dy, Tensor y);

    // ---- dense --------------------------------------------------------------------------

    @Override
    public final void denseForward(Tensor y, Tensor x, Tensor w, Tensor b) {
        String op = "denseForward";
        own(op, y, x, w);
        rank(op, "w", 2, w);
        int n = x.shape().dim(0);
        int out = w.shape().dim(0);
        expect(op, "w", Shape.of(out, x.shape().sizePerItem()), w);
        expect(op, "y", Shape.of(n, out), y);
        if (b != null) {
            own(op, b);
            expect(op, "b", Shape.of(out), b);
        }
        denseForwardImpl(y, x, w, b);
    }

    @Override
    public final void denseBackward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, boolean accumulate) {
        String op = "denseBackward";
        own(op, dw, dy, x, w);
        rank(op, "w", 2, w);
        int n = x.shape().dim(0);
        int out = w.shape().dim(0);
        expect(op, "w", Shape.of(out, x.shape().sizePerItem()), w);
        expect(op, "dw", w.shape(), dw);
        expect(op, "dy", Shape.of(n, out), dy);
        if (dx != null) {
            own(op, dx);
            expect(op, "dx", x.shape(), dx);
        }
        if (db != null) {
            own(op, db);
            expect(op, "db", Shape.of(out), db);
        }
        denseBackwardImpl(dx, dw, db, dy, x, w, accumulate);
    }

    protected abstract void denseForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b);

    protected abstract void denseBackwardImpl(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w,
            boolean accumulate);

    // ---- losses -------------------------------------------------------------------------

    @Override
    public final void softmaxCrossEntropy(Tensor loss, Tensor dz, Tensor z, Tensor labels) {
        checkClassificationLoss("softmaxCrossEntropy", loss, dz, z, labels);
        softmaxCrossEntropyImpl(loss, dz, z, labels);
    }

    @Override
    public final void meanSquaredError(Tensor loss, Tensor dp, Tensor p, Tensor t) {
        String op = "meanSquaredError";
        own(op, loss, p, t);
        expect(op, "loss", Shape.of(1), loss);
        expect(op, "target", p.shape(), t);
        if (dp != null) {
            own(op, dp);
            expect(op, "dp", p.shape(), dp);
        }
        meanSquaredErrorImpl(loss, dp, p, t);
    }

    @Override
    public final void hingeLoss(Tensor loss, Tensor dz, Tensor z, Tensor labels) {
        checkClassificationLoss("hingeLoss", loss, dz, z, labels);
        hingeLossImpl(loss, dz, z, labels);
    }

    private void checkClassificationLoss(String op, Tensor loss, Tensor dz, Tensor z, Tensor labels) {
        own(op, loss, z, labels);
        rank(op, "z", 2, z);
        expect(op, "loss", Shape.of(1), loss);
        expect(op, "labels", Shape.of(z.shape().dim(0)), labels);
        if (dz != null) {
            own(op, dz);
            expect(op, "dz", z.shape(), dz);
        }
    }

    protected abstract void softmaxCrossEntropyImpl(Tensor loss, Tensor dz, Tensor z, Tensor labels);

    protected abstract void meanSquaredErrorImpl(Tensor loss, Tensor dp, Tensor p, Tensor t);

    protected abstract void hingeLossImpl(Tensor loss, Tensor dz, Tensor z, Tensor labels);

    // ---- dropout ------------------------------------------------------------------------

    @Override
    public final void dropoutForward(Tensor y, Tensor x, float p, long seed, int stream, int step, long offset) {
        String op = "dropoutForward";
        own(op, y, x);
        expect(op, "y", x.shape(), y);
        dropoutArguments(op, p, offset, x.size());
        dropoutImpl(y, x, p, seed, stream, step, offset);
    }

    @Override
    public final void dropoutBackward(Tensor dx, Tensor dy, float p, long seed, int stream, int step, long offset) {
        String op = "dropoutBackward";
        own(op, dx, dy);
        expect(op, "dx", dy.shape(), dx);
        dropoutArguments(op, p, offset, dy.size());
        // The mask is a pure function of (seed, stream, step, index): backward is the same map.
        dropoutImpl(dx, dy, p, seed, stream, step, offset);
    }

    private static void dropoutArguments(String op, float p, long offset, int size) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException(op + ": drop probability must be in [0, 1), got " + p);
        }
        // Philox counts 4-element blocks with a 64-bit counter: any offset up to 2^62 is exact.
        if (offset < 0 || offset > (1L << 62) - size) {
            throw new IllegalArgumentException(op + ": element offset must be in [0, 2^62 - " + size + "], got " + offset);
        }
    }

    /** y[i] = keep(offset + i) ? x[i] · (1/(1−p)) : 0 with the Philox mask of docs/design.md. */
    protected abstract void dropoutImpl(Tensor y, Tensor x, float p, long seed, int stream, int step, long offset);

    // ---- optimizers ---------------------------------------------------------------------

    @Override
    public final void sgdUpdate(Tensor w, Tensor dw, Tensor velocity, SgdParams params) {
        String op = "sgdUpdate";
        own(op, w, dw);
        expect(op, "dw", w.shape(), dw);
        if (params.momentum() != 0) {
            if (velocity == null) {
                throw new IllegalArgumentException(op + ": momentum " + params.momentum() + " needs a velocity tensor");
            }
            own(op, velocity);
            expect(op, "velocity", w.shape(), velocity);
        }
        sgdUpdateImpl(w, dw, params.momentum() != 0 ? velocity : null, params);
    }

    @Override
    public final void adamUpdate(Tensor w, Tensor dw, Tensor m, Tensor v, AdamParams params) {
        String op = "adamUpdate";
        own(op, w, dw, m, v);
        expect(op, "dw", w.shape(), dw);
        expect(op, "m", w.shape(), m);
        expect(op, "v", w.shape(), v);
        adamUpdateImpl(w, dw, m, v, params);
    }

    protected abstract void sgdUpdateImpl(Tensor w, Tensor dw, Tensor velocity, SgdParams params);

    protected abstract void adamUpdateImpl(Tensor w, Tensor dw, Tensor m, Tensor v, AdamParams params);

    // ---- helpers ------------------------------------------------------------------------

    @Override
    public final void add(Tensor y, Tensor a, Tensor b) {
        own("add", y, a, b);
        expect("add", "b", a.shape(), b);
        expect("add", "y", a.shape(), y);
        addImpl(y, a, b);
    }

    @Override
    public final void scale(Tensor y, Tensor x, float alpha) {
        own("scale", y, x);
        expect("scale", "y", x.shape(), y);
        scaleImpl(y, x, alpha);
    }

    @Override
    public final void axpy(Tensor y, float alpha, Tensor x) {
        own("axpy", y, x);
        expect("axpy", "x", y.shape(), x);
        axpyImpl(y, alpha, x);
    }

    @Override
    public final void argmax(Tensor out, Tensor x) {
        own("argmax", out, x);
        expect("argmax", "out", Shape.of(x.shape().dim(0)), out);
        argmaxImpl(out, x);
    }

    @Override
    public final void sum(Tensor out, Tensor x) {
        own("sum", out, x);
        expect("sum", "out", Shape.of(1), out);
        sumImpl(out, x);
    }

    protected abstract void addImpl(Tensor y, Tensor a, Tensor b);

    protected abstract void scaleImpl(Tensor y, Tensor x, float alpha);

    protected abstract void axpyImpl(Tensor y, float alpha, Tensor x);

    protected abstract void argmaxImpl(Tensor out, Tensor x);

    protected abstract void sumImpl(Tensor out, Tensor x);

    // ---- checks -------------------------------------------------------------------------

    /** Every tensor must be non-null, open and made by this backend. */
    protected final void own(String op, Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t == null) {
                throw new IllegalArgumentException(op + ": a required tensor is null");
            }
            t.checkOpen();
            if (t.backend() != this) {
                String owner = t.backend().name().equals(name()) ? "another " + name() + " backend"
                        : "the " + t.backend().name() + " backend";
                throw new IllegalArgumentException(op + ": tensor " + t.shape() + " belongs to " + owner
                        + ", not to this " + name() + " backend");
            }
        }
    }

    protected static void expect(String op, String what, Shape expected, Tensor actual) {
        if (!expected.equals(actual.shape())) {
            throw new IllegalArgumentException(op + ": " + what + " expected shape " + expected + " but got "
                    + actual.shape());
        }
    }

    private static void sameSize(String op, String what, Tensor a, Tensor b) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException(op + ": " + what + " shape " + a.shape() + " does not hold the "
                    + b.size() + " elements of " + b.shape());
        }
    }

    private static void rank(String op, String what, int rank, Tensor t) {
        if (t.shape().rank() != rank) {
            throw new IllegalArgumentException(op + ": " + what + " expected rank " + rank + " but got shape " + t.shape());
        }
    }

    private static void rankAtLeast(String op, String what, int rank, Tensor t) {
        if (t.shape().rank() < rank) {
            throw new IllegalArgumentException(op + ": " + what + " expected rank >= " + rank + " but got shape "
                    + t.shape());
        }
    }
}
