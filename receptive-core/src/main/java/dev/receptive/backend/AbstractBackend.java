package dev.receptive.backend;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * The base of every backend, for writers of backends (users call {@link Backend}): it checks every
 * argument of the op contract in one place, then calls the backend's {@code *Impl} hook. Hooks
 * receive non-null, open tensors of this backend whose shapes fit (optional tensors may be null
 * where the contract says so); they only compute. A new backend extends this class and is found
 * by {@link Backends} through a {@link BackendProvider}.
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

    /** For subclasses. */
    protected AbstractBackend() {
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

    /**
     * The work of {@link #upload(Tensor, float[])}, on arguments already checked.
     *
     * @param dst as in {@link #upload(Tensor, float[])}
     * @param data as in {@link #upload(Tensor, float[])}
     */
    protected abstract void uploadImpl(Tensor dst, float[] data);

    /**
     * The work of {@link #download(Tensor, float[])}, on arguments already checked.
     *
     * @param src as in {@link #download(Tensor, float[])}
     * @param dst as in {@link #download(Tensor, float[])}
     */
    protected abstract void downloadImpl(Tensor src, float[] dst);

    /**
     * The work of {@link #copy}, on arguments already checked.
     *
     * @param dst as in {@link #copy}
     * @param src as in {@link #copy}
     */
    protected abstract void copyImpl(Tensor dst, Tensor src);

    /**
     * The work of {@link #fill}, on arguments already checked.
     *
     * @param dst as in {@link #fill}
     * @param value as in {@link #fill}
     */
    protected abstract void fillImpl(Tensor dst, float value);

    // ---- conv2d -------------------------------------------------------------------------

    @Override
    public final void conv2dForward(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams p) {
        checkConv2dForward("conv2dForward", y, x, w, b, p);
        conv2dForwardImpl(y, x, w, b, p);
    }

    @Override
    public final void conv2dBiasReluForward(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams p) {
        checkConv2dForward("conv2dBiasReluForward", y, x, w, b, p);
        conv2dBiasReluForwardImpl(y, x, w, b, p);
    }

    private void checkConv2dForward(String op, Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams p) {
        own(op, y, x, w);
        expect(op, "y", p.outputShape(op, x.shape(), w.shape()), y);
        if (b != null) {
            own(op, b);
            expect(op, "b", Shape.of(w.shape().dim(0)), b);
        }
    }

    /**
     * {@link #conv2dBiasReluForward} with the shapes checked: by default the convolution, then the
     * ReLU in place. Override to apply the ReLU as the convolution writes y.
     *
     * @param y output (N, K, P, Q), after the ReLU
     * @param x input (N, C, H, W)
     * @param w weights (K, C, R, S)
     * @param b bias (K), or null
     * @param p stride, padding and dilation
     */
    protected void conv2dBiasReluForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams p) {
        conv2dForwardImpl(y, x, w, b, p);
        activationForwardImpl(Activation.RELU, y, y);
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

    /**
     * The work of {@link #conv2dForward}, on arguments already checked.
     *
     * @param y as in {@link #conv2dForward}
     * @param x as in {@link #conv2dForward}
     * @param w as in {@link #conv2dForward}
     * @param b as in {@link #conv2dForward}
     * @param p as in {@link #conv2dForward}
     */
    protected abstract void conv2dForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams p);

    /**
     * The work of {@link #conv2dBackwardData}, on arguments already checked.
     *
     * @param dx as in {@link #conv2dBackwardData}
     * @param dy as in {@link #conv2dBackwardData}
     * @param w as in {@link #conv2dBackwardData}
     * @param p as in {@link #conv2dBackwardData}
     */
    protected abstract void conv2dBackwardDataImpl(Tensor dx, Tensor dy, Tensor w, Conv2dParams p);

    /**
     * The work of {@link #conv2dBackwardFilter}, on arguments already checked.
     *
     * @param dw as in {@link #conv2dBackwardFilter}
     * @param x as in {@link #conv2dBackwardFilter}
     * @param dy as in {@link #conv2dBackwardFilter}
     * @param p as in {@link #conv2dBackwardFilter}
     * @param accumulate as in {@link #conv2dBackwardFilter}
     */
    protected abstract void conv2dBackwardFilterImpl(Tensor dw, Tensor x, Tensor dy, Conv2dParams p, boolean accumulate);

    /**
     * The work of {@link #conv2dBackwardBias}, on arguments already checked.
     *
     * @param db as in {@link #conv2dBackwardBias}
     * @param dy as in {@link #conv2dBackwardBias}
     * @param accumulate as in {@link #conv2dBackwardBias}
     */
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

    /**
     * The work of {@link #pool2dForward}, on arguments already checked.
     *
     * @param mode as in {@link #pool2dForward}
     * @param y as in {@link #pool2dForward}
     * @param x as in {@link #pool2dForward}
     * @param p as in {@link #pool2dForward}
     */
    protected abstract void pool2dForwardImpl(PoolMode mode, Tensor y, Tensor x, Pool2dParams p);

    /**
     * The work of {@link #pool2dBackward}, on arguments already checked.
     *
     * @param mode as in {@link #pool2dBackward}
     * @param dx as in {@link #pool2dBackward}
     * @param dy as in {@link #pool2dBackward}
     * @param x as in {@link #pool2dBackward}
     * @param y as in {@link #pool2dBackward}
     * @param p as in {@link #pool2dBackward}
     */
    protected abstract void pool2dBackwardImpl(PoolMode mode, Tensor dx, Tensor dy, Tensor x, Tensor y, Pool2dParams p);

    // ---- batch normalization ----------------------------------------------------------

    /** cuDNN's CUDNN_BN_MIN_EPSILON: no backend takes a smaller eps. */
    public static final float BATCH_NORM_MIN_EPS = 1e-5f;

    private void checkBatchNormTraining(String op, Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        Shape c = checkBatchNorm(op, y, x, eps, gamma, beta, runningMean, runningVar, saveMean, saveInvStd);
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException(op + ": momentum must be in [0, 1], got " + momentum);
        }
        long m = (long) x.size() / c.dim(0);
        if (m < 2) {
            throw new IllegalArgumentException(op + ": each channel needs at least 2 values to estimate a variance, x "
                    + x.shape() + " has " + m);
        }
    }

    @Override
    public final void batchNormForwardTraining(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        checkBatchNormTraining("batchNormForwardTraining", y, x, gamma, beta, runningMean, runningVar, saveMean,
                saveInvStd, momentum, eps);
        batchNormForwardTrainingImpl(y, x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, momentum, eps);
    }

    @Override
    public final void batchNormReluForwardTraining(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        checkBatchNormTraining("batchNormReluForwardTraining", y, x, gamma, beta, runningMean, runningVar, saveMean,
                saveInvStd, momentum, eps);
        batchNormReluForwardTrainingImpl(y, x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, momentum,
                eps);
    }

    /**
     * {@link #batchNormReluForwardTraining} with the shapes checked: by default batch norm, then the
     * ReLU in place. Override to apply the ReLU as the normalization writes y.
     *
     * @param y output (N, C, ...), after the ReLU
     * @param x input (N, C, ...)
     * @param gamma scale (C)
     * @param beta shift (C)
     * @param runningMean updated in place (C)
     * @param runningVar updated in place (C)
     * @param saveMean output (C)
     * @param saveInvStd output (C)
     * @param momentum running-statistics factor
     * @param eps added to the variance
     */
    protected void batchNormReluForwardTrainingImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        batchNormForwardTrainingImpl(y, x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, momentum, eps);
        activationForwardImpl(Activation.RELU, y, y);
    }

    @Override
    public final void batchNormReluForwardInference(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, float eps) {
        checkBatchNorm("batchNormReluForwardInference", y, x, eps, gamma, beta, runningMean, runningVar);
        batchNormReluForwardInferenceImpl(y, x, gamma, beta, runningMean, runningVar, eps);
    }

    /**
     * {@link #batchNormReluForwardInference} with the shapes checked: by default batch norm, then
     * the ReLU in place. Override to apply the ReLU as the normalization writes y.
     *
     * @param y output (N, C, ...), after the ReLU
     * @param x input (N, C, ...)
     * @param gamma scale (C)
     * @param beta shift (C)
     * @param runningMean running mean (C)
     * @param runningVar running variance (C)
     * @param eps added to the variance
     */
    protected void batchNormReluForwardInferenceImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta,
            Tensor runningMean, Tensor runningVar, float eps) {
        batchNormForwardInferenceImpl(y, x, gamma, beta, runningMean, runningVar, eps);
        activationForwardImpl(Activation.RELU, y, y);
    }

    private void checkShortcut(String op, Tensor y, Tensor x, Tensor shortcut) {
        own(op, shortcut);
        expect(op, "shortcut", x.shape(), shortcut);
        if (y == x || y == shortcut) {
            throw new IllegalArgumentException(op + ": y must be neither x nor the shortcut");
        }
    }

    @Override
    public final void batchNormAddReluForwardTraining(Tensor y, Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
            Tensor runningMean, Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        String op = "batchNormAddReluForwardTraining";
        checkBatchNormTraining(op, y, x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, momentum, eps);
        checkShortcut(op, y, x, shortcut);
        batchNormAddReluForwardTrainingImpl(y, x, shortcut, gamma, beta, runningMean, runningVar, saveMean, saveInvStd,
                momentum, eps);
    }

    /**
     * {@link #batchNormAddReluForwardTraining} with the shapes checked: by default batch norm, the
     * add and the ReLU in place. Override to add and apply the ReLU as the normalization writes y.
     *
     * @param y output (N, C, ...), after the ReLU
     * @param x input (N, C, ...)
     * @param shortcut added after the normalization (N, C, ...)
     * @param gamma scale (C)
     * @param beta shift (C)
     * @param runningMean updated in place (C)
     * @param runningVar updated in place (C)
     * @param saveMean output (C)
     * @param saveInvStd output (C)
     * @param momentum running-statistics factor
     * @param eps added to the variance
     */
    protected void batchNormAddReluForwardTrainingImpl(Tensor y, Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
            Tensor runningMean, Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        batchNormForwardTrainingImpl(y, x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, momentum, eps);
        addImpl(y, y, shortcut);
        activationForwardImpl(Activation.RELU, y, y);
    }

    @Override
    public final void batchNormAddReluForwardInference(Tensor y, Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
            Tensor runningMean, Tensor runningVar, float eps) {
        String op = "batchNormAddReluForwardInference";
        checkBatchNorm(op, y, x, eps, gamma, beta, runningMean, runningVar);
        checkShortcut(op, y, x, shortcut);
        batchNormAddReluForwardInferenceImpl(y, x, shortcut, gamma, beta, runningMean, runningVar, eps);
    }

    /**
     * {@link #batchNormAddReluForwardInference} with the shapes checked: by default batch norm, the
     * add and the ReLU in place. Override to add and apply the ReLU as the normalization writes y.
     *
     * @param y output (N, C, ...), after the ReLU
     * @param x input (N, C, ...)
     * @param shortcut added after the normalization (N, C, ...)
     * @param gamma scale (C)
     * @param beta shift (C)
     * @param runningMean running mean (C)
     * @param runningVar running variance (C)
     * @param eps added to the variance
     */
    protected void batchNormAddReluForwardInferenceImpl(Tensor y, Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
            Tensor runningMean, Tensor runningVar, float eps) {
        batchNormForwardInferenceImpl(y, x, gamma, beta, runningMean, runningVar, eps);
        addImpl(y, y, shortcut);
        activationForwardImpl(Activation.RELU, y, y);
    }

    @Override
    public final void batchNormReluBackward(Tensor dx, Tensor dGamma, Tensor dBeta, Tensor dz, Tensor dy, Tensor x,
            Tensor y, Tensor gamma, Tensor saveMean, Tensor saveInvStd, float eps) {
        String op = "batchNormReluBackward";
        checkBatchNorm(op, dx, x, eps, dGamma, dBeta, gamma, saveMean, saveInvStd);
        own(op, dz, dy, y);
        expect(op, "dz", x.shape(), dz);
        expect(op, "dy", x.shape(), dy);
        expect(op, "y", x.shape(), y);
        batchNormReluBackwardImpl(dx, dGamma, dBeta, dz, dy, x, y, gamma, saveMean, saveInvStd, eps);
    }

    /**
     * {@link #batchNormReluBackward} with the shapes checked: by default the ReLU's backward into dz,
     * then batch norm's from dz. Override to mask dy as the normalization's sums read it.
     *
     * @param dx output (N, C, ...)
     * @param dGamma added to (C)
     * @param dBeta added to (C)
     * @param dz output (N, C, ...); may be dy itself
     * @param dy gradient of y (N, C, ...)
     * @param x the forward call's input
     * @param y the forward call's output (after the ReLU)
     * @param gamma scale (C)
     * @param saveMean as the forward call wrote it (C)
     * @param saveInvStd as the forward call wrote it (C)
     * @param eps as in the forward call
     */
    protected void batchNormReluBackwardImpl(Tensor dx, Tensor dGamma, Tensor dBeta, Tensor dz, Tensor dy, Tensor x,
            Tensor y, Tensor gamma, Tensor saveMean, Tensor saveInvStd, float eps) {
        activationBackwardImpl(Activation.RELU, dz, dy, y);
        batchNormBackwardImpl(dx, dGamma, dBeta, dz, x, gamma, saveMean, saveInvStd, eps, true);
    }

    @Override
    public final void batchNormForwardInference(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, float eps) {
        checkBatchNorm("batchNormForwardInference", y, x, eps, gamma, beta, runningMean, runningVar);
        batchNormForwardInferenceImpl(y, x, gamma, beta, runningMean, runningVar, eps);
    }

    @Override
    public final void batchNormBackward(Tensor dx, Tensor dGamma, Tensor dBeta, Tensor dy, Tensor x, Tensor gamma,
            Tensor saveMean, Tensor saveInvStd, float eps, boolean accumulate) {
        String op = "batchNormBackward";
        checkBatchNorm(op, dx, x, eps, dGamma, dBeta, gamma, saveMean, saveInvStd);
        own(op, dy);
        expect(op, "dy", x.shape(), dy);
        batchNormBackwardImpl(dx, dGamma, dBeta, dy, x, gamma, saveMean, saveInvStd, eps, accumulate);
    }

    /** x: (N, C, ...), out like x, every per-channel tensor (C); returns (C). */
    private Shape checkBatchNorm(String op, Tensor out, Tensor x, float eps, Tensor... perChannel) {
        own(op, out, x);
        own(op, perChannel);
        rankAtLeast(op, "x", 2, x);
        expect(op, "output", x.shape(), out);
        Shape c = Shape.of(x.shape().dim(1));
        for (Tensor t : perChannel) {
            expect(op, "per-channel tensor", c, t);
        }
        if (!(eps >= BATCH_NORM_MIN_EPS) || Float.isInfinite(eps)) {
            throw new IllegalArgumentException(op + ": eps must be finite and >= " + BATCH_NORM_MIN_EPS + ", got " + eps);
        }
        return c;
    }

    /**
     * The work of {@link #batchNormForwardTraining}, on arguments already checked (m ≥ 2, momentum and eps in range).
     *
     * @param y as in {@link #batchNormForwardTraining}
     * @param x as in {@link #batchNormForwardTraining}
     * @param gamma as in {@link #batchNormForwardTraining}
     * @param beta as in {@link #batchNormForwardTraining}
     * @param runningMean as in {@link #batchNormForwardTraining}
     * @param runningVar as in {@link #batchNormForwardTraining}
     * @param saveMean as in {@link #batchNormForwardTraining}
     * @param saveInvStd as in {@link #batchNormForwardTraining}
     * @param momentum as in {@link #batchNormForwardTraining}
     * @param eps as in {@link #batchNormForwardTraining}
     */
    protected abstract void batchNormForwardTrainingImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta,
            Tensor runningMean, Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps);

    /**
     * The work of {@link #batchNormForwardInference}, on arguments already checked.
     *
     * @param y as in {@link #batchNormForwardInference}
     * @param x as in {@link #batchNormForwardInference}
     * @param gamma as in {@link #batchNormForwardInference}
     * @param beta as in {@link #batchNormForwardInference}
     * @param runningMean as in {@link #batchNormForwardInference}
     * @param runningVar as in {@link #batchNormForwardInference}
     * @param eps as in {@link #batchNormForwardInference}
     */
    protected abstract void batchNormForwardInferenceImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta,
            Tensor runningMean, Tensor runningVar, float eps);

    /**
     * The work of {@link #batchNormBackward}, on arguments already checked.
     *
     * @param dx as in {@link #batchNormBackward}
     * @param dGamma as in {@link #batchNormBackward}
     * @param dBeta as in {@link #batchNormBackward}
     * @param dy as in {@link #batchNormBackward}
     * @param x as in {@link #batchNormBackward}
     * @param gamma as in {@link #batchNormBackward}
     * @param saveMean as in {@link #batchNormBackward}
     * @param saveInvStd as in {@link #batchNormBackward}
     * @param eps as in {@link #batchNormBackward}
     * @param accumulate as in {@link #batchNormBackward}
     */
    protected abstract void batchNormBackwardImpl(Tensor dx, Tensor dGamma, Tensor dBeta, Tensor dy, Tensor x,
            Tensor gamma, Tensor saveMean, Tensor saveInvStd, float eps, boolean accumulate);

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

    /**
     * The work of {@link #activationForward}, on arguments already checked.
     *
     * @param f as in {@link #activationForward}
     * @param y as in {@link #activationForward}
     * @param x as in {@link #activationForward}
     */
    protected abstract void activationForwardImpl(Activation f, Tensor y, Tensor x);

    /**
     * The work of {@link #activationBackward}, on arguments already checked.
     *
     * @param f as in {@link #activationBackward}
     * @param dx as in {@link #activationBackward}
     * @param dy as in {@link #activationBackward}
     * @param y as in {@link #activationBackward}
     */
    protected abstract void activationBackwardImpl(Activation f, Tensor dx, Tensor dy, Tensor y);

    /**
     * The work of {@link #softmaxForward} and of {@link #logSoftmaxForward}, on arguments already checked.
     *
     * @param y as in {@link #softmaxForward}
     * @param x as in {@link #softmaxForward}
     * @param log true for {@link #logSoftmaxForward}
     */
    protected abstract void softmaxForwardImpl(Tensor y, Tensor x, boolean log);

    /**
     * The work of {@link #softmaxBackward}, on arguments already checked.
     *
     * @param dx as in {@link #softmaxBackward}
     * @param dy as in {@link #softmaxBackward}
     * @param y as in {@link #softmaxBackward}
     */
    protected abstract void softmaxBackwardImpl(Tensor dx, Tensor dy, Tensor y);

    // ---- dense --------------------------------------------------------------------------

    @Override
    public final void denseForward(Tensor y, Tensor x, Tensor w, Tensor b) {
        checkDenseForward("denseForward", y, x, w, b);
        denseForwardImpl(y, x, w, b);
    }

    @Override
    public final void denseBiasReluForward(Tensor y, Tensor x, Tensor w, Tensor b) {
        checkDenseForward("denseBiasReluForward", y, x, w, b);
        denseBiasReluForwardImpl(y, x, w, b);
    }

    /**
     * {@link #denseBiasReluForward} with the shapes checked: by default the dense layer, then the
     * ReLU in place. Override to apply the ReLU as the product writes y.
     *
     * @param y output (N, out), after the ReLU
     * @param x input (N, in)
     * @param w weights (out, in)
     * @param b bias (out), or null
     */
    protected void denseBiasReluForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b) {
        denseForwardImpl(y, x, w, b);
        activationForwardImpl(Activation.RELU, y, y);
    }

    private void checkDenseForward(String op, Tensor y, Tensor x, Tensor w, Tensor b) {
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

    /**
     * The work of {@link #denseForward}, on arguments already checked.
     *
     * @param y as in {@link #denseForward}
     * @param x as in {@link #denseForward}
     * @param w as in {@link #denseForward}
     * @param b as in {@link #denseForward}
     */
    protected abstract void denseForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b);

    /**
     * The work of {@link #denseBackward}, on arguments already checked.
     *
     * @param dx as in {@link #denseBackward}
     * @param dw as in {@link #denseBackward}
     * @param db as in {@link #denseBackward}
     * @param dy as in {@link #denseBackward}
     * @param x as in {@link #denseBackward}
     * @param w as in {@link #denseBackward}
     * @param accumulate as in {@link #denseBackward}
     */
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

    /**
     * The work of {@link #softmaxCrossEntropy}, on arguments already checked.
     *
     * @param loss as in {@link #softmaxCrossEntropy}
     * @param dz as in {@link #softmaxCrossEntropy}
     * @param z as in {@link #softmaxCrossEntropy}
     * @param labels as in {@link #softmaxCrossEntropy}
     */
    protected abstract void softmaxCrossEntropyImpl(Tensor loss, Tensor dz, Tensor z, Tensor labels);

    /**
     * The work of {@link #meanSquaredError}, on arguments already checked.
     *
     * @param loss as in {@link #meanSquaredError}
     * @param dp as in {@link #meanSquaredError}
     * @param p as in {@link #meanSquaredError}
     * @param t as in {@link #meanSquaredError}
     */
    protected abstract void meanSquaredErrorImpl(Tensor loss, Tensor dp, Tensor p, Tensor t);

    /**
     * The work of {@link #hingeLoss}, on arguments already checked.
     *
     * @param loss as in {@link #hingeLoss}
     * @param dz as in {@link #hingeLoss}
     * @param z as in {@link #hingeLoss}
     * @param labels as in {@link #hingeLoss}
     */
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

    /**
     * The work of {@link #dropoutForward} and of {@link #dropoutBackward} (x is then dy, y is dx: the mask is the same map), on arguments already checked.
     *
     * @param y as in {@link #dropoutForward}
     * @param x as in {@link #dropoutForward}
     * @param p as in {@link #dropoutForward}
     * @param seed as in {@link #dropoutForward}
     * @param stream as in {@link #dropoutForward}
     * @param step as in {@link #dropoutForward}
     * @param offset as in {@link #dropoutForward}
     */
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

    /**
     * The work of {@link #sgdUpdate}, on arguments already checked.
     *
     * @param w as in {@link #sgdUpdate}
     * @param dw as in {@link #sgdUpdate}
     * @param velocity as in {@link #sgdUpdate}, but null whenever momentum is 0
     * @param params as in {@link #sgdUpdate}
     */
    protected abstract void sgdUpdateImpl(Tensor w, Tensor dw, Tensor velocity, SgdParams params);

    /**
     * The work of {@link #adamUpdate}, on arguments already checked.
     *
     * @param w as in {@link #adamUpdate}
     * @param dw as in {@link #adamUpdate}
     * @param m as in {@link #adamUpdate}
     * @param v as in {@link #adamUpdate}
     * @param params as in {@link #adamUpdate}
     */
    protected abstract void adamUpdateImpl(Tensor w, Tensor dw, Tensor m, Tensor v, AdamParams params);

    // ---- merges -------------------------------------------------------------------------

    @Override
    public final void concatForward(Tensor y, List<Tensor> xs) {
        String op = "concatForward";
        own(op, y);
        expect(op, "y", concatShape(op, xs), y);
        concatForwardImpl(y, xs);
    }

    @Override
    public final void concatBackward(List<Tensor> dxs, Tensor dy, int[] channels) {
        String op = "concatBackward";
        own(op, dy);
        Shape d = dy.shape();
        if (channels.length != dxs.size() || channels.length == 0) {
            throw new IllegalArgumentException(op + ": " + dxs.size() + " input gradients but " + channels.length
                    + " channel counts");
        }
        long total = 0;
        for (int i = 0; i < channels.length; i++) {
            if (channels[i] < 1) {
                throw new IllegalArgumentException(op + ": input " + i + " has " + channels[i] + " channels");
            }
            total += channels[i];
            Tensor dx = dxs.get(i);
            if (dx != null) {
                own(op, dx);
                int[] want = d.dims().clone();
                want[1] = channels[i];
                expect(op, "dx[" + i + "]", Shape.of(want), dx);
            }
        }
        if (d.rank() < 2 || total != d.dim(1)) {
            throw new IllegalArgumentException(op + ": channels " + Arrays.toString(channels) + " add up to " + total
                    + " but dy has shape " + d);
        }
        concatBackwardImpl(dxs, dy, channels);
    }

    /** (N, Σ C_i, rest...) of the inputs, or an error naming them. */
    private Shape concatShape(String op, List<Tensor> xs) {
        if (xs.isEmpty()) {
            throw new IllegalArgumentException(op + ": needs at least one input");
        }
        Shape first = null;
        long channels = 0;
        for (Tensor x : xs) {
            own(op, x);
            Shape s = x.shape();
            if (s.rank() < 2) {
                throw new IllegalArgumentException(op + ": inputs need rank >= 2, got " + s);
            }
            if (first == null) {
                first = s;
            } else if (s.rank() != first.rank() || s.dim(0) != first.dim(0)
                    || !Arrays.equals(Arrays.copyOfRange(s.dims(), 2, s.rank()),
                            Arrays.copyOfRange(first.dims(), 2, first.rank()))) {
                throw new IllegalArgumentException(op + ": inputs " + shapes(xs) + " differ in a dimension other than 1");
            }
            channels += s.dim(1);
        }
        int[] dims = first.dims().clone();
        dims[1] = Math.toIntExact(channels);
        return Shape.of(dims);
    }

    private static String shapes(List<Tensor> ts) {
        StringBuilder sb = new StringBuilder("[");
        for (Tensor t : ts) {
            sb.append(sb.length() > 1 ? ", " : "").append(t == null ? "skipped" : t.shape().toString());
        }
        return sb.append(']').toString();
    }

    /**
     * The work of {@link #concatForward}: y = the inputs side by side along dimension 1, on arguments already
     * checked.
     *
     * @param y as in {@link #concatForward}
     * @param xs as in {@link #concatForward}
     */
    protected abstract void concatForwardImpl(Tensor y, List<Tensor> xs);

    /**
     * The work of {@link #concatBackward}: each non-null dx_i = its slice of dy, on arguments already checked.
     *
     * @param dxs as in {@link #concatBackward}
     * @param dy as in {@link #concatBackward}
     * @param channels as in {@link #concatBackward}
     */
    protected abstract void concatBackwardImpl(List<Tensor> dxs, Tensor dy, int[] channels);

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

    /**
     * The work of {@link #add}, on arguments already checked.
     *
     * @param y as in {@link #add}
     * @param a as in {@link #add}
     * @param b as in {@link #add}
     */
    protected abstract void addImpl(Tensor y, Tensor a, Tensor b);

    /**
     * The work of {@link #scale}, on arguments already checked.
     *
     * @param y as in {@link #scale}
     * @param x as in {@link #scale}
     * @param alpha as in {@link #scale}
     */
    protected abstract void scaleImpl(Tensor y, Tensor x, float alpha);

    /**
     * The work of {@link #axpy}, on arguments already checked.
     *
     * @param y as in {@link #axpy}
     * @param alpha as in {@link #axpy}
     * @param x as in {@link #axpy}
     */
    protected abstract void axpyImpl(Tensor y, float alpha, Tensor x);

    /**
     * The work of {@link #argmax}, on arguments already checked.
     *
     * @param out as in {@link #argmax}
     * @param x as in {@link #argmax}
     */
    protected abstract void argmaxImpl(Tensor out, Tensor x);

    /**
     * The work of {@link #sum}, on arguments already checked.
     *
     * @param out as in {@link #sum}
     * @param x as in {@link #sum}
     */
    protected abstract void sumImpl(Tensor out, Tensor x);

    // ---- checks -------------------------------------------------------------------------

    /** Every tensor must be non-null, open and made by this backend. */
    private void own(String op, Tensor... tensors) {
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

    private static void expect(String op, String what, Shape expected, Tensor actual) {
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
