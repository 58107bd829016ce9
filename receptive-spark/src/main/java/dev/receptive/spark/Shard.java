package dev.receptive.spark;

import java.io.Serializable;

/**
 * One partition's part of a training step: samples {@code indices} of the training data, which
 * are samples {@code offset} … {@code offset + indices.length − 1} of a global batch of
 * {@code globalBatch}. A task carries these indices, never the data.
 */
record Shard(int partition, int step, long offset, int[] indices, int globalBatch) implements Serializable {

    /**
     * Splits a global batch into {@code parts} contiguous shards whose sizes differ by at most one:
     * shard p holds samples ⌊p·B/P⌋ … ⌊(p+1)·B/P⌋ − 1.
     */
    static Shard[] split(int step, int[] batch, int parts) {
        if (parts < 1 || parts > batch.length) {
            throw new IllegalArgumentException("receptive-spark: " + parts + " partitions for a batch of " + batch.length
                    + "; use between 1 and the batch size");
        }
        Shard[] shards = new Shard[parts];
        for (int p = 0; p < parts; p++) {
            int from = (int) ((long) batch.length * p / parts);
            int to = (int) ((long) batch.length * (p + 1) / parts);
            shards[p] = new Shard(p, step, from, java.util.Arrays.copyOfRange(batch, from, to), batch.length);
        }
        return shards;
    }
}
