package dev.receptive.backend;

/** What a pooling window computes. */
public enum PoolMode {
    /** The largest value in the window. */
    MAX,
    /** The mean of the window, padded zeros included (PyTorch's {@code count_include_pad=True}). */
    AVERAGE
}
