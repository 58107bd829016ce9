package dev.receptive.nn;

import dev.receptive.backend.Activation;
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
        forward(y, x, null, pass, scratch, false);
    }

    @Override
    boolean fusesRelu() {
        return true;
    }

    @Override
    void forwardRelu(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        forward(y, x, null, pass, scratch, true);
    }

    @Override
    boolean fusesAddRelu() {
        return true;
    }

    @Override
    void forwardAddRelu(Tensor y, Tensor x, Tensor shortcut, Pass pass, Scratch scratch) {
        forward(y, x, shortcut, pass, scratch, true);
    }

    /** y = bn(x), then y + shortcut unless it is null, then the ReLU with relu. */
    private void forward(Tensor y, Tensor x, Tensor shortcut, Pass pass, Scratch scratch, boolean relu) {
        if (pass.training() && pass.batchStatistics() != null) {
            // Synchronized statistics (replicas on Spark): the add and the ReLU follow as their own ops.
            forwardSynchronized(y, x, pass.batchStatistics(), scratch);
            if (shortcut != null) {
                backend().add(y, y, shortcut);
            }
            if (relu) {
                backend().activationForward(Activation.RELU, y, y);
            }
        } else if (pass.training()) {
            Shape c = weight.shape();
            Tensor mean = scratch.tensor("mean", c);
            Tensor invStd = scratch.tensor("invStd", c);
            if (shortcut != null) {
                backend().batchNormAddReluForwardTraining(y, x, shortcut, weight.value(), bias.value(),
                        runningMean.value(), runningVar.value(), mean, invStd, (float) momentum, (float) eps);
            } else if (relu) {
                backend().batchNormReluForwardTraining(y, x, weight.value(), bias.value(), runningMean.value(),
                        runningVar.value(), mean, invStd, (float) momentum, (float) eps);
            } else {
                backend().batchNormForwardTraining(y, x, weight.value(), bias.value(), runningMean.value(),
                        runningVar.value(), mean, invStd, (float) momentum, (float) eps);
            }
            Tensor one = scratch.tensor("one", Shape.of(1));
            backend().fill(one, 1f);
            backend().axpy(batches.value(), 1f, one);
        } else if (shortcut != null) {
            backend().batchNormAddReluForwardInference(y, x, shortcut, weight.value(), bias.value(), runningMean.value(),
                    runningVar.value(), (float) eps);
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
        backward(dx, null, dy, x, y, pass, scratch);
    }

    @Override
    void backwardRelu(Tensor dx, Tensor dz, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        backward(dx, dz, dy, x, y, pass, scratch);
    }

    /** The backward of batch norm, or of batch norm + ReLU when dz (the gradient before the ReLU) is given. */
    private void backward(Tensor dx, Tensor dz, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        if (!pass.training()) {
            throw new IllegalStateException("layer " + name() + " (" + type() + "): backward after an evaluation pass is"
                    + " not supported; train with Pass.train");
        }
        Shape c = weight.shape();
        Tensor into = dx != null ? dx : scratch.tensor("dx", x.shape());
        if (pass.batchStatistics() != null) {
            if (dz != null) {
                backend().activationBackward(Activation.RELU, dz, dy, y);
            }
            backwardSynchronized(into, dz != null ? dz : dy, x, pass.batchStatistics(), scratch);
        } else if (dz != null) {
            backend().batchNormReluBackward(into, weight.grad(), bias.grad(), dz, dy, x, y, weight.value(),
                    scratch.tensor("mean", c), scratch.tensor("invStd", c), (float) eps);
        } else {
            backend().batchNormBackward(into, weight.grad(), bias.grad(), dy, x, weight.value(), scratch.tensor("mean", c),
                    scratch.tensor("invStd", c), (float) eps, true);
        }
    }

    /**
     * Forward with the global batch's statistics: the shard's own batch norm gives its per-channel
     * mean and variance (and would update the running statistics with them, which is undone); the
     * replicas sum each channel's count, sum and sum of squares (in double); the global mean and
     * biased variance then normalize through the inference op, and the running statistics follow
     * them with the global count's unbiased variance, the same on every replica.
     */
    // y, x: (N, C, ...)
    private void forwardSynchronized(Tensor y, Tensor x, BatchStatistics sync, Scratch scratch) {
        Shape c = weight.shape();
        int channels = c.dim(0);
        Tensor mean = scratch.tensor("mean", c);
        Tensor invStd = scratch.tensor("invStd", c);
        Tensor var = scratch.tensor("var", c);
        float[] runningMeanBefore = backend().download(runningMean.value());
        float[] runningVarBefore = backend().download(runningVar.value());
        backend().batchNormForwardTraining(y, x, weight.value(), bias.value(), runningMean.value(), runningVar.value(),
                mean, invStd, (float) momentum, (float) eps);
        float[] localMean = backend().download(mean);
        float[] localInvStd = backend().download(invStd);
        double n = (double) x.shape().size() / channels;
        double[] sums = new double[1 + 2 * channels];
        sums[0] = n;
        for (int ch = 0; ch < channels; ch++) {
            double m = localMean[ch];
            double v = Math.max(0, 1 / ((double) localInvStd[ch] * localInvStd[ch]) - eps);
            sums[1 + ch] = n * m;
            sums[1 + channels + ch] = n * (v + m * m);
        }
        sync.allReduce(sums);
        double total = sums[0];
        float[] globalMean = new float[channels];
        float[] globalVar = new float[channels];
        float[] globalInvStd = new float[channels];
        float[] newRunningMean = new float[channels];
        float[] newRunningVar = new float[channels];
        for (int ch = 0; ch < channels; ch++) {
            double m = sums[1 + ch] / total;
            double v = Math.max(0, sums[1 + channels + ch] / total - m * m);
            globalMean[ch] = (float) m;
            globalVar[ch] = (float) v;
            globalInvStd[ch] = (float) (1 / Math.sqrt(v + eps));
            newRunningMean[ch] = (float) ((1 - momentum) * (double) runningMeanBefore[ch] + momentum * m);
            newRunningVar[ch] = (float) ((1 - momentum) * (double) runningVarBefore[ch]
                    + momentum * v * total / (total - 1));
        }
        backend().upload(mean, globalMean);
        backend().upload(invStd, globalInvStd);
        backend().upload(var, globalVar);
        backend().upload(runningMean.value(), newRunningMean);
        backend().upload(runningVar.value(), newRunningVar);
        backend().batchNormForwardInference(y, x, weight.value(), bias.value(), mean, var, (float) eps);
        Tensor one = scratch.tensor("one", Shape.of(1));
        backend().fill(one, 1f);
        backend().axpy(batches.value(), 1f, one);
    }

    /**
     * Backward with the global batch's statistics. The backend's backward over the shard uses the
     * global mean and 1/σ saved by the forward, so its weight and bias gradients are the shard's
     * share (Σ dy·x̂ and Σ dy); its input gradient, γ/σ · (dy − Σdy/n − x̂·Σ(dy·x̂)/n), uses the
     * shard's means of dy and dy·x̂ where the global batch's belong. The replicas sum those two per
     * channel, and the difference, γ/σ · ((a_shard − a) + x̂ · (b_shard − b)), is a per-channel
     * affine function of x̂, which the inference op computes and which is added to dx.
     */
    // into, dy, x: (N, C, ...)
    private void backwardSynchronized(Tensor into, Tensor dy, Tensor x, BatchStatistics sync, Scratch scratch) {
        Shape c = weight.shape();
        int channels = c.dim(0);
        Tensor mean = scratch.tensor("mean", c);
        Tensor invStd = scratch.tensor("invStd", c);
        Tensor dw = scratch.tensor("dw", c);
        Tensor db = scratch.tensor("db", c);
        backend().batchNormBackward(into, dw, db, dy, x, weight.value(), mean, invStd, (float) eps, false);
        float[] shardDw = backend().download(dw);
        float[] shardDb = backend().download(db);
        float[] gamma = backend().download(weight.value());
        float[] inv = backend().download(invStd);
        double n = (double) x.shape().size() / channels;
        double[] sums = new double[1 + 2 * channels];
        sums[0] = n;
        for (int ch = 0; ch < channels; ch++) {
            sums[1 + ch] = shardDb[ch];
            sums[1 + channels + ch] = shardDw[ch];
        }
        sync.allReduce(sums);
        double total = sums[0];
        float[] scale = new float[channels];
        float[] shift = new float[channels];
        for (int ch = 0; ch < channels; ch++) {
            double k = (double) gamma[ch] * inv[ch];
            shift[ch] = (float) (k * (shardDb[ch] / n - sums[1 + ch] / total));
            scale[ch] = (float) (k * (shardDw[ch] / n - sums[1 + channels + ch] / total));
        }
        Tensor scaleT = scratch.tensor("correctionScale", c);
        Tensor shiftT = scratch.tensor("correctionShift", c);
        backend().upload(scaleT, scale);
        backend().upload(shiftT, shift);
        Tensor correction = scratch.tensor("correction", x.shape());
        backend().batchNormForwardInference(correction, x, scaleT, shiftT, mean, scratch.tensor("var", c), (float) eps);
        backend().add(into, into, correction);
        backend().axpy(weight.grad(), 1f, dw);
        backend().axpy(bias.grad(), 1f, db);
    }
}
