package dev.receptive.spark;

import java.io.Serializable;

/**
 * What a partition sends back for one step: its shard's contribution to the global batch's
 * gradient of every parameter (in the model's parameter order), its summed loss and correct
 * count, and where it ran.
 *
 * @param partition the shard's partition index
 * @param gradients ∂L/∂w of the global batch's mean loss restricted to this shard's samples
 * @param lossSum the shard's loss summed over its samples
 * @param correct samples whose most probable class was the label
 * @param samples the shard's sample count
 * @param backendId the id of the executor-wide backend it used (see {@link ExecutorResources})
 * @param dataFingerprint the fingerprint of the training data the executor read
 */
record ShardResult(int partition, float[][] gradients, double lossSum, int correct, int samples, long backendId,
        long dataFingerprint) implements Serializable {
}
