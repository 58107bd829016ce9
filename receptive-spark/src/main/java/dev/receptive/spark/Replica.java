package dev.receptive.spark;

import dev.receptive.backend.Backend;
import dev.receptive.data.Dataset;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.Parameter;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.train.TrainingStep;
import java.util.List;

/**
 * An executor's copy of the model being trained, with what one task needs to compute a shard's
 * gradient: a workspace, the loss and a label tensor. One task uses it at a time; it stays in
 * its executor (see {@link ExecutorResources#borrowReplica}) so later steps reuse its memory.
 */
final class Replica implements AutoCloseable {
    private final String run;
    private final long backendId;
    private final Backend backend;
    private final Model model;
    private final Loss loss = Loss.softmaxCrossEntropy();
    private final TrainingStep step;
    private float[] images = new float[0];
    private float[] labelValues = new float[0];
    private long loadedBroadcast = -1;
    private Kept kept;

    /**
     * What a replica keeps at the end of an all-reduce task for the next stage (its weights are
     * the model's): the task's chunk of the optimizer state.
     *
     * @param version the driver's version of this state
     * @param rank the task's rank
     * @param size the stage's task count
     * @param state per slot, the chunk of rank {@code rank}
     * @param optimizerStep the optimizer's steps
     */
    record Kept(long version, int rank, int size, float[][] state, int optimizerStep) {
    }

    Replica(String run, ExecutorResources.SharedBackend backend, ModelDescription image) {
        this.run = run;
        this.backendId = backend.id();
        this.backend = backend.backend();
        this.model = image.place(this.backend);
        // Gradients only: the driver sums the shards' and applies the optimizer.
        this.step = new TrainingStep(model, loss, null, LrSchedule.constant(), 1);
    }

    /** Has later gradients use the global batch's batch-norm statistics summed by {@code sync} (null: the shard's). */
    void synchronize(dev.receptive.nn.BatchStatistics sync) {
        step.setBatchStatistics(sync);
    }

    /** {@return the values of every buffer (batch norm's running statistics), in the model's buffer order} */
    float[][] buffers() {
        List<dev.receptive.nn.Buffer> buffers = model.buffers();
        float[][] out = new float[buffers.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = backend.download(buffers.get(i).value());
        }
        return out;
    }

    String run() {
        return run;
    }

    /** Keeps {@code k} for the next stage; the replica's weights must be the model's at that version. */
    void keep(Kept k) {
        kept = k;
    }

    /** {@return the rank whose state the replica keeps, or -1} */
    int keptRank() {
        return kept == null ? -1 : kept.rank();
    }

    /**
     * {@return what the replica kept, when it is the state of {@code version} in a stage of
     * {@code size} tasks (of whichever rank); else null} Either way the replica keeps nothing
     * afterwards: the stage now running changes its weights.
     */
    Kept take(long version, int size) {
        Kept k = kept;
        kept = null;
        return k != null && k.version() == version && k.size() == size ? k : null;
    }

    /**
     * The shard's gradient at the weights of {@code weights} (broadcast {@code broadcastId}): forward
     * and backward over its samples with the dropout masks of their places in the global batch,
     * weighted n/B so that the shards' gradients add up to the global batch's.
     */
    ShardResult compute(Shard shard, long broadcastId, ModelDescription weights, ExecutorResources.LoadedData loaded) {
        kept = null;
        if (loadedBroadcast != broadcastId) {
            model.loadStateDict(weights.state());
            loadedBroadcast = broadcastId;
        }
        return compute(shard, loaded);
    }

    /**
     * Loads {@code weights} (of broadcast {@code broadcastId}) unless they are loaded already, and
     * returns every parameter's values end to end, in the model's parameter order.
     */
    float[] loadFlat(long broadcastId, ModelDescription weights) {
        if (loadedBroadcast != broadcastId) {
            model.loadStateDict(weights.state());
            loadedBroadcast = broadcastId;
        }
        return flatten(true);
    }

    /** Sets every parameter from {@code flat} (the order of {@link #loadFlat}); the loaded broadcast is forgotten. */
    void setFlat(float[] flat) {
        loadedBroadcast = -1;
        kept = null;
        int at = 0;
        for (Parameter p : model.parameters()) {
            int n = p.shape().size();
            float[] part = new float[n];
            System.arraycopy(flat, at, part, 0, n);
            backend.upload(p.value(), part);
            at += n;
        }
    }

    /** {@return the parameters' values (or gradients) end to end, in the model's parameter order} */
    float[] flatten(boolean values) {
        List<Parameter> params = model.parameters();
        long total = 0;
        for (Parameter p : params) {
            total += p.shape().size();
        }
        float[] flat = new float[Math.toIntExact(total)];
        int at = 0;
        for (Parameter p : params) {
            float[] part = backend.download(values ? p.value() : p.grad());
            System.arraycopy(part, 0, flat, at, part.length);
            at += part.length;
        }
        return flat;
    }

    /** The shard's gradient at the weights the replica holds now (see {@link #compute(Shard, long, ModelDescription, ExecutorResources.LoadedData)}). */
    ShardResult compute(Shard shard, ExecutorResources.LoadedData loaded) {
        Dataset data = loaded.data();
        int n = shard.indices().length;
        int item = data.itemShape().size();
        if (images.length != n * item) {
            images = new float[n * item];
            labelValues = new float[n];
        }
        for (int r = 0; r < n; r++) {
            int i = shard.indices()[r];
            if (i < 0 || i >= data.size()) {
                throw new IllegalArgumentException("receptive-spark: sample " + i + " is outside the training data of "
                        + data.size() + " samples on this executor");
            }
            data.copyImage(i, images, r * item);
            labelValues[r] = data.label(i);
        }
        float[] meanLoss = new float[1];
        float[] logits = new float[n * model.outputShape().size()];
        step.gradients(images, labelValues, n, shard.step(), shard.offset(), (float) n / shard.globalBatch(),
                (stepLoss, output, labels) -> {
                    backend.download(stepLoss, meanLoss);
                    backend.download(output, logits);
                });

        List<Parameter> params = model.parameters();
        float[][] grads = new float[params.size()][];
        for (int k = 0; k < grads.length; k++) {
            grads[k] = backend.download(params.get(k).grad());
        }
        double lossSum = (double) meanLoss[0] * n;
        int classes = logits.length / n;
        int correct = 0;
        for (int r = 0; r < n; r++) {
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (logits[r * classes + c] > logits[r * classes + best]) {
                    best = c;
                }
            }
            correct += best == (int) labelValues[r] ? 1 : 0;
        }
        return new ShardResult(shard.partition(), grads, lossSum, correct, n, backendId, loaded.fingerprint());
    }

    @Override
    public void close() {
        step.close();
        loss.close();
        model.close();
    }
}
