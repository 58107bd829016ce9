package dev.receptive.nn;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * Batch normalization per channel with PyTorch's semantics and names: in training, each channel
 * is normalized with the batch's mean and (biased) variance, then scaled by {@code weight} and
 * shifted by {@code bias}; {@code running_mean} and {@code running_var} follow with the given
 * momentum (the unbiased variance), and {@code num_batches_tracked} counts training passes. In
 * evaluation the running statistics normalize. {@link BatchNorm2d} takes (C, H, W) items,
 * {@link BatchNorm1d} flat (F) ones.
 *
 * <p>Backward needs a training pass (with an evaluation pass the running statistics are
 * constants; PyTorch's frozen batch norm is not supported yet and says so).
 */
public abstract sealed class BatchNorm extends Layer permits BatchNorm1d, BatchNorm2d {
    /** PyTorch's defaults. */
    static final double DEFAULT_EPS = 1e-5;
    static final double DEFAULT_MOMENTUM = 0.1;

    /**
     * A batch norm's settings, as architecture JSON holds them.
     *
     * @param eps added to the variance before the square root, finite and ≥ 1e-5 (cuDNN's least)
     * @param momentum the weight of each batch in the running statistics, in [0, 1]
     */
    public record Settings(double eps, double momentum) {
        /**
         * Checks the ranges.
         *
         * @param eps added to the variance before the square root, finite and ≥ 1e-5
         * @param momentum the weight of each batch in the running statistics, in [0, 1]
         * @throws IllegalArgumentException when either is out of range
         */
        public Settings {
            if (!(eps >= 1e-5) || Double.isInfinite(eps)) {
                throw new IllegalArgumentException("eps must be finite and >= 1e-5 (cuDNN's least), got " + eps);
            }
            if (!(momentum >= 0 && momentum <= 1)) {
                throw new IllegalArgumentException("momentum must be in [0, 1], got " + momentum);
            }
        }
    }

    private final Settings settings;
    private final double eps;
    private final double momentum;
    private Parameter weight;
    private Parameter bias;
    private Buffer runningMean;
    private Buffer runningVar;
    private Buffer batches;

    BatchNorm(Settings settings) {
        if (settings == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": settings must not be null");
        }
        this.settings = settings;
        this.eps = settings.eps();
        this.momentum = settings.momentum();
    }

    /** The settings of the (eps, momentum) constructors, whose errors name the layer type. */
    static Settings settings(String type, double eps, double momentum) {
        try {
            return new Settings(eps, momentum);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(type + ": " + e.getMessage(), e);
        }
    }

    @Override
    public final Settings settings() {
        return settings;
    }

    /** The number of channels (features) of an item of shape {@code in}, or an error saying what fits. */
    abstract int channels(Shape in);

    @Override
    protected final Shape inferOutputShape(Shape in) {
        channels(in);
        return in;
    }

    @Override
    protected final void createParameters() {
        Shape c = Shape.of(channels(inputShape()));
        weight = addConstantParameter("weight", c, 1f);
        bias = addZeroParameter("bias", c);
        runningMean = addBuffer("running_mean", c, 0f);
        runningVar = addBuffer("running_var", c, 1f);
        batches = addBuffer("num_batches_tracked", Shape.of(1), 0f);
    }

    // y, x: (N, C, ...)
    @Override
    protected final void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        forward(y, x, pass, scratch, false);
    }

    @Override
    boolean fusesRelu() {
        return true;
    }

    @Override
    void forwardRelu(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        forward(y, x, pass, scratch, true);
    }

    private void forward(Tensor y, Tensor x, Pass pass, Scratch scratch, boolean relu) {
        if (pass.training()) {
            Shape c = weight.shape();
            Tensor mean = scratch.tensor("mean", c);
            Tensor invStd = scratch.tensor("invStd", c);
            if (relu) {
                backend().batchNormReluForwardTraining(y, x, weight.value(), bias.value(), runningMean.value(),
                        runningVar.value(), mean, invStd, (float) momentum, (float) eps);
            } else {
                backend().batchNormForwardTraining(y, x, weight.value(), bias.value(), runningMean.value(),
                        runningVar.value(), mean, invStd, (float) momentum, (float) eps);
            }
            Tensor one = scratch.tensor("one", Shape.of(1));
            backend().fill(one, 1f);
            backend().axpy(batches.value(), 1f, one);
        } else if (relu) {
            backend().batchNormReluForwardInference(y, x, weight.value(), bias.value(), runningMean.value(),
                    runningVar.value(), (float) eps);
        } else {
            backend().batchNormForwardInference(y, x, weight.value(), bias.value(), runningMean.value(),
                    runningVar.value(), (float) eps);
        }
    }

    // dx, dy, x, y: (N, C, ...)
    @Override
    protected final void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        if (!pass.training()) {
            throw new IllegalStateException("layer " + name() + " (" + type() + "): backward after an evaluation pass is"
                    + " not supported; train with Pass.train");
        }
        Shape c = weight.shape();
        Tensor into = dx != null ? dx : scratch.tensor("dx", x.shape());
        backend().batchNormBackward(into, weight.grad(), bias.grad(), dy, x, weight.value(), scratch.tensor("mean", c),
                scratch.tensor("invStd", c), (float) eps, true);
    }

    @Override
    void backwardRelu(Tensor dx, Tensor dz, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        if (!pass.training()) {
            throw new IllegalStateException("layer " + name() + " (" + type() + "): backward after an evaluation pass is"
                    + " not supported; train with Pass.train");
        }
        Shape c = weight.shape();
        Tensor into = dx != null ? dx : scratch.tensor("dx", x.shape());
        backend().batchNormReluBackward(into, weight.grad(), bias.grad(), dz, dy, x, y, weight.value(),
                scratch.tensor("mean", c), scratch.tensor("invStd", c), (float) eps);
    }
}
