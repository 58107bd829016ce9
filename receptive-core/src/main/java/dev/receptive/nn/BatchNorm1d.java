package dev.receptive.nn;

import dev.receptive.tensor.Shape;

/**
 * Batch normalization of flat (F) items per feature, like PyTorch's nn.BatchNorm1d(F) on (N, F)
 * input. See {@link BatchNorm}.
 */
public final class BatchNorm1d extends BatchNorm {
    /** eps 1e-5 and momentum 0.1, PyTorch's defaults. */
    public BatchNorm1d() {
        this(DEFAULT_EPS, DEFAULT_MOMENTUM);
    }

    /**
     * Custom eps and momentum.
     *
     * @param eps added to the variance before the square root, finite and ≥ 1e-5 (cuDNN's least)
     * @param momentum the weight of each batch in the running statistics, in [0, 1] (PyTorch's default 0.1)
     * @throws IllegalArgumentException when either is out of range
     */
    public BatchNorm1d(double eps, double momentum) {
        this(settings("BatchNorm1d", eps, momentum));
    }

    /**
     * The layer of architecture JSON's settings.
     *
     * @param settings the checked eps and momentum, not null
     * @throws IllegalArgumentException when settings is null
     */
    public BatchNorm1d(Settings settings) {
        super(settings);
    }

    @Override
    int channels(Shape in) {
        if (in.rank() != 1) {
            throw new IllegalArgumentException("BatchNorm1d needs flat (F) items; use BatchNorm2d for (C, H, W) ones");
        }
        return in.dim(0);
    }
}
