package dev.receptive.nn;

import dev.receptive.tensor.Shape;

/**
 * Batch normalization of (C, H, W) items per channel, like PyTorch's nn.BatchNorm2d(C): parameters
 * {@code weight} and {@code bias}, buffers {@code running_mean}, {@code running_var} and
 * {@code num_batches_tracked}. See {@link BatchNorm}.
 */
public final class BatchNorm2d extends BatchNorm {
    /** eps 1e-5 and momentum 0.1, PyTorch's defaults. */
    public BatchNorm2d() {
        this(DEFAULT_EPS, DEFAULT_MOMENTUM);
    }

    /**
     * Custom eps and momentum.
     *
     * @param eps added to the variance before the square root, finite and ≥ 1e-5 (cuDNN's least)
     * @param momentum the weight of each batch in the running statistics, in [0, 1] (PyTorch's default 0.1)
     * @throws IllegalArgumentException when either is out of range
     */
    public BatchNorm2d(double eps, double momentum) {
        this(settings("BatchNorm2d", eps, momentum));
    }

    /**
     * The layer of architecture JSON's settings.
     *
     * @param settings the checked eps and momentum, not null
     * @throws IllegalArgumentException when settings is null
     */
    public BatchNorm2d(Settings settings) {
        super(settings);
    }

    @Override
    int channels(Shape in) {
        if (in.rank() != 3) {
            throw new IllegalArgumentException("BatchNorm2d needs (C, H, W) items; use BatchNorm1d for flat ones");
        }
        return in.dim(0);
    }
}
