package dev.receptive.nn;

/**
 * Which kind of forward pass a layer runs: training (dropout active, keyed by the training step;
 * batch norm on batch statistics) or evaluation (dropout is the identity; batch norm uses its
 * running statistics).
 *
 * <p>A training pass over a shard of a larger batch (one of several micro-batches, or a data
 * parallel worker's part) gives the index of its first sample in that batch, so dropout draws
 * exactly the mask the whole batch would have drawn.
 */
public final class Pass {
    /** Evaluation: no dropout, running statistics. */
    public static final Pass EVAL = new Pass(false, 0, 0);

    private final boolean training;
    private final int step;
    private final long sampleOffset;
    private final BatchStatistics batchStatistics;

    private Pass(boolean training, int step, long sampleOffset) {
        this(training, step, sampleOffset, null);
    }

    private Pass(boolean training, int step, long sampleOffset, BatchStatistics batchStatistics) {
        this.training = training;
        this.step = step;
        this.sampleOffset = sampleOffset;
        this.batchStatistics = batchStatistics;
    }

    /**
     * This training pass, its batch norms normalizing with the statistics of the global batch that
     * {@code statistics} sums over the replicas (each replica runs its shard).
     *
     * @param statistics the replicas' sum, or null for the shard's own statistics
     * @return the pass
     * @throws IllegalStateException for an evaluation pass
     */
    public Pass withBatchStatistics(BatchStatistics statistics) {
        if (!training) {
            throw new IllegalStateException("Pass.withBatchStatistics: an evaluation pass uses the running statistics");
        }
        return new Pass(true, step, sampleOffset, statistics);
    }

    /** {@return the replicas' sum of batch statistics, or null: the pass's own batch} */
    public BatchStatistics batchStatistics() {
        return batchStatistics;
    }

    /**
     * A training pass at {@code step} over a whole batch; dropout masks differ from step to step.
     *
     * @param step the training step, ≥ 0
     * @return a training pass
     * @throws IllegalArgumentException when step &lt; 0
     */
    public static Pass train(int step) {
        return train(step, 0);
    }

    /**
     * A training pass at {@code step} over a shard whose first sample is sample
     * {@code sampleOffset} of the whole batch.
     *
     * @param step the training step, ≥ 0
     * @param sampleOffset the index of the shard's first sample in the whole batch, ≥ 0
     * @return a training pass
     * @throws IllegalArgumentException when either is negative
     */
    public static Pass train(int step, long sampleOffset) {
        if (step < 0 || sampleOffset < 0) {
            throw new IllegalArgumentException("Pass.train: step and sample offset must be >= 0, got " + step + " and "
                    + sampleOffset);
        }
        return new Pass(true, step, sampleOffset);
    }

    /** {@return whether this is a training pass} */
    public boolean training() {
        return training;
    }

    /** {@return the training step; 0 for {@link #EVAL}} */
    public int step() {
        return step;
    }

    /** {@return the index of this pass's first sample in the whole batch; 0 for {@link #EVAL} and whole batches} */
    public long sampleOffset() {
        return sampleOffset;
    }

    @Override
    public String toString() {
        return training ? "train(step " + step + (sampleOffset == 0 ? "" : ", from sample " + sampleOffset)
                + (batchStatistics == null ? "" : ", synchronized batch statistics") + ")" : "eval";
    }
}
