package dev.receptive.nn;

/**
 * Synchronized batch statistics for data-parallel training: the replicas of a model that each
 * run a shard of one global batch sum a few values per batch-norm layer over all of them, so
 * that batch norm normalizes with the statistics of the global batch (PyTorch's SyncBatchNorm).
 * Given to a training pass with {@link Pass#withBatchStatistics}. Every replica must call it the
 * same number of times in the same order (the layers' order, forward then backward).
 */
@FunctionalInterface
public interface BatchStatistics {
    /**
     * Replaces {@code values} by their element-wise sum over all replicas, added in a fixed order
     * (so every replica gets the same bits).
     *
     * @param values this replica's values, the same count on every replica; overwritten with the sums
     */
    void allReduce(double[] values);
}
