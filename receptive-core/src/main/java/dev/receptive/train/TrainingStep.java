package dev.receptive.train;

import dev.receptive.backend.Backend;
import dev.receptive.nn.BatchStatistics;
import dev.receptive.nn.Model;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Workspace;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * One optimizer step of training, the one definition that {@link Trainer} and the Spark module
 * share: the learning rate of the step from the schedule, the gradients of a batch or of one shard
 * of a global batch (in micro-batches whose gradients add up), the update, and the divergence
 * checks.
 *
 * <pre>
 * float lr = step.start(epoch, epoch + (double) b / batchesPerEpoch);
 * step.gradients(images, labels, n, stepNumber, 0, 1f, observer);   // clears, then adds every micro-batch
 * step.update();
 * </pre>
 *
 * <p>A shard of a global batch of B items, starting at item {@code offset}, calls
 * {@link #gradients} with weight n/B: dropout draws the global batch's masks and the shards'
 * gradients add up to the whole batch's (within fp32 rounding of the order of the sums).
 *
 * <p>Holds a workspace and a label tensor on the model's backend, made on first use; close it.
 * From construction to close it also holds the model for training ({@link Model#beginTraining()}),
 * so the model's predictor refuses to predict meanwhile. Not thread-safe: one training loop uses it.
 */
public final class TrainingStep implements AutoCloseable {
    /** Sees each micro-batch's mean loss (1) and output (micro, classes), still on the backend. */
    @FunctionalInterface
    public interface Observer {
        /**
         * Called after each micro-batch's forward pass and loss, before its backward pass.
         *
         * @param loss the micro-batch's mean loss (1), owned by the loss
         * @param output the model's output (micro, classes), owned by the workspace
         * @param labels the micro-batch's labels on the host (micro), valid during the call
         */
        void microBatch(Tensor loss, Tensor output, float[] labels);
    }

    private final Model model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private final float baseLr;
    private final int accumulation;
    private Workspace workspace;
    private Tensor labels;
    private float[] microImages = new float[0];
    private float[] microLabels = new float[0];
    private int epoch;
    private float lr = Float.NaN;
    private BatchStatistics batchStatistics;
    private boolean closed;

    /**
     * A step of {@code model} trained on {@code loss} by {@code optimizer}.
     *
     * @param model the model; the step borrows it
     * @param loss the loss; the step borrows it
     * @param optimizer the optimizer, whose learning rate when the step is made is the base rate the schedule
     *     scales; or null for a step that only computes gradients (the update runs elsewhere)
     * @param schedule the learning rate per (fractional) epoch
     * @param accumulation micro-batches per batch, ≥ 1, dividing every batch given to {@link #gradients}
     * @throws IllegalArgumentException when model, loss or schedule is null or accumulation is below 1
     * @throws IllegalStateException when the model is closed
     */
    public TrainingStep(Model model, Loss loss, Optimizer optimizer, LrSchedule schedule, int accumulation) {
        if (model == null || loss == null || schedule == null) {
            throw new IllegalArgumentException("TrainingStep: model, loss and schedule must be given");
        }
        if (accumulation < 1) {
            throw new IllegalArgumentException("TrainingStep: accumulation steps must be >= 1, got " + accumulation);
        }
        this.model = model;
        this.loss = loss;
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.baseLr = optimizer == null ? Float.NaN : optimizer.learningRate();
        this.accumulation = accumulation;
        model.beginTraining();
    }

    /**
     * Starts a step: sets the optimizer's learning rate from the schedule at {@code progress}.
     *
     * @param epoch the epoch the step belongs to, from 0 (for messages)
     * @param progress the epoch as a fraction: epoch + (batch in the epoch) / (batches per epoch)
     * @return the step's learning rate (NaN for a step without an optimizer)
     */
    public float start(int epoch, double progress) {
        this.epoch = epoch;
        if (optimizer != null) {
            lr = schedule.lr(progress, baseLr);
            optimizer.setLearningRate(lr);
        }
        return lr;
    }

    /**
     * Clears the parameter gradients, then adds the gradient of {@code weight} × the mean loss over
     * the n items, in {@code accumulation} micro-batches run one after the other (each one's loss
     * gradient scaled by weight / accumulation).
     *
     * @param images n items of the model's input shape, already normalized
     * @param labels n class labels
     * @param n the items, a multiple of the accumulation steps
     * @param step the training step, which keys the dropout masks
     * @param offset the first item's index in the global batch (0 for a whole batch)
     * @param weight 1 for a whole batch; n / B for a shard of a global batch of B items
     * @param observer sees each micro-batch's loss and output, or null
     * @throws IllegalArgumentException when n is not a positive multiple of the accumulation steps or the arrays
     *     are too short
     * @throws TrainingDivergedException when the loss op refuses the outputs (NaN)
     */
    public void gradients(float[] images, float[] labels, int n, int step, long offset, float weight,
            Observer observer) {
        if (n < 1 || n % accumulation != 0) {
            throw new IllegalArgumentException("TrainingStep: " + n + " items do not split into " + accumulation
                    + " micro-batches");
        }
        int item = model.inputShape().size();
        if (images.length < (long) n * item || labels.length < n) {
            throw new IllegalArgumentException("TrainingStep: " + n + " items need " + (long) n * item + " values and "
                    + n + " labels, got " + images.length + " and " + labels.length);
        }
        int micro = n / accumulation;
        prepare(micro, item);
        Backend backend = model.backend();
        model.zeroGrad();
        for (int m = 0; m < accumulation; m++) {
            System.arraycopy(images, m * micro * item, microImages, 0, micro * item);
            System.arraycopy(labels, m * micro, microLabels, 0, micro);
            backend.upload(this.labels, microLabels);
            Pass pass = Pass.train(step, offset + (long) m * micro);
            Tensor output = workspace.forward(microImages,
                    batchStatistics == null ? pass : pass.withBatchStatistics(batchStatistics));
            Tensor stepLoss;
            try {
                stepLoss = loss.compute(output, this.labels);
            } catch (IllegalArgumentException e) {
                // Data and shapes were checked before training: what the loss op rejects now is NaN.
                throw new TrainingDivergedException(epoch + 1, step, e.getMessage(), lr, e);
            }
            if (observer != null) {
                observer.microBatch(stepLoss, output, microLabels);
            }
            Tensor dOutput = loss.gradient();
            float scale = weight / accumulation;
            if (scale != 1f) {
                // Each micro-batch's loss is its own mean; the batch's is the mean of those, and a
                // shard's share of a global batch is n / B of it.
                backend.scale(dOutput, dOutput, scale);
            }
            workspace.backward(dOutput);
        }
    }

    private void prepare(int micro, int item) {
        if (workspace == null) {
            workspace = model.newWorkspace();
        }
        if (labels == null || labels.shape().dim(0) != micro) {
            if (labels != null) {
                labels.close();
                labels = null;
            }
            labels = model.backend().allocate(Shape.of(micro));
            microImages = new float[micro * item];
            microLabels = new float[micro];
        }
    }

    /**
     * Has the batch norms of later {@link #gradients} calls normalize with the statistics of the
     * global batch, summed over the replicas by {@code statistics} (data-parallel training).
     *
     * @param statistics the replicas' sum, or null for each shard's own statistics (the default)
     */
    public void setBatchStatistics(BatchStatistics statistics) {
        this.batchStatistics = statistics;
    }

    /**
     * Applies the optimizer to the parameter gradients (those {@link #gradients} left, or others
     * loaded into them, such as the sum of several shards').
     *
     * @throws IllegalStateException for a step without an optimizer
     */
    public void update() {
        if (optimizer == null) {
            throw new IllegalStateException("TrainingStep: this step computes gradients only; it has no optimizer");
        }
        optimizer.step(model.parameters());
    }

    /**
     * Refuses a loss that is NaN or infinite, naming the epoch, the step and the learning rate.
     *
     * @param value the mean loss of a step
     * @param step the step it belongs to
     * @throws TrainingDivergedException when the value is not finite
     */
    public void checkLoss(double value, int step) {
        if (!Double.isFinite(value)) {
            throw new TrainingDivergedException(epoch + 1, step, "the loss is " + value, lr, null);
        }
    }

    /** {@return the model this step trains} */
    public Model model() {
        return model;
    }

    /**
     * Closes the workspace and the label tensor and ends the model's training hold; the model, loss
     * and optimizer stay the caller's.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        model.endTraining();
        if (labels != null) {
            labels.close();
            labels = null;
        }
        if (workspace != null) {
            workspace.close();
            workspace = null;
        }
    }
}
