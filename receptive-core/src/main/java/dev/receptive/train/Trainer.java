package dev.receptive.train;

import dev.receptive.backend.Backend;
import dev.receptive.data.Augmentation;
import dev.receptive.data.Batches;
import dev.receptive.data.Dataset;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.nn.optim.Optimizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains a classifier (labels are class indices) for a number of epochs over seeded, shuffled
 * batches, validating after each epoch and, with an output folder, writing a checkpoint and the
 * metrics there (see {@link RunFolder}).
 *
 * <pre>
 * Trainer trainer = Trainer.builder().model(model).loss(loss).optimizer(Optimizer.adam(1e-3).build())
 *         .epochs(3).batchSize(64).seed(1).validation(test).outputDir(Path.of("runs/mnist")).build();
 * List&lt;Metrics&gt; history = trainer.fit(train);
 * </pre>
 *
 * <p>Each step ({@link TrainingStep}) clears the gradients, runs the batch forward and backward (in
 * {@link Builder#accumulationSteps} micro-batches whose gradients add up to the batch's, with the
 * dropout masks of the whole batch) and updates the weights once.
 *
 * <p>Runs are reproducible: epoch e visits the data in the order of (seed, e), step s keys the
 * dropout masks, and a run resumed from the checkpoint of epoch k gives bit for bit the weights
 * of a run that never stopped (on backends whose ops are deterministic, as the CPU's are). The
 * checkpoint records every training setting; a resume with other settings is refused unless
 * {@link Builder#allowChangedSettings()} says otherwise. Batches are all full: the last partial
 * batch of each (shuffled) epoch is skipped.
 *
 * <p>The caller owns the model, loss and optimizer; the trainer only borrows them. Not
 * thread-safe: one thread runs {@link #fit}.
 */
public final class Trainer {
    /** Steps between reading the loss and accuracy back from the backend. */
    private static final int WINDOW = 20;
    private static final System.Logger LOG = System.getLogger(Trainer.class.getName());

    private final Model model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private final float baseLr;
    private final int epochs;
    private final int batchSize;
    private final int accumulation;
    private final long seed;
    private final RunFolder runFolder;
    private final Dataset validation;
    private final List<TrainingListener> listeners;
    private final Checkpoint resume;
    private final boolean allowChangedSettings;
    private final Augmentation augmentation;
    private final int patience;
    private final Map<String, String> modelMetadata;
    private final List<Metrics> history = new ArrayList<>();
    private final List<StepMetrics> steps = new ArrayList<>();
    private Evaluation lastValidation;
    /** The best epoch so far and its weights, tracked for the run folder's model file; null when unknown. */
    private Checkpoint.Best best;
    private int epochsDone;
    private int step;

    private Trainer(Builder b) {
        this.model = b.model;
        this.loss = b.loss;
        this.optimizer = b.optimizer;
        this.schedule = b.schedule;
        this.baseLr = b.optimizer.learningRate();
        this.epochs = b.epochs;
        this.batchSize = b.batchSize;
        this.accumulation = b.accumulation;
        this.seed = b.seed;
        this.runFolder = b.outputDir == null ? null : new RunFolder(b.outputDir);
        this.validation = b.validation;
        this.listeners = List.copyOf(b.listeners);
        this.resume = b.resume;
        this.allowChangedSettings = b.allowChangedSettings;
        this.augmentation = b.augmentation;
        this.patience = b.patience;
        this.modelMetadata = Map.copyOf(b.modelMetadata);
    }

    /** {@return a new builder} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The settings a checkpoint records and a resume compares: everything but the number of
     * epochs (which a resume may raise) that decides the weights.
     *
     * @return the settings by name ("optimizer", "lr", "schedule", "loss", "batch_size", "accumulation_steps",
     *     "seed", "augmentation"), in that order
     */
    public Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("optimizer", optimizer.describe());
        s.put("lr", Float.toString(baseLr));
        s.put("schedule", schedule.describe());
        s.put("loss", loss.name());
        s.put("batch_size", Integer.toString(batchSize));
        s.put("accumulation_steps", Integer.toString(accumulation));
        s.put("seed", Long.toString(seed));
        s.put("augmentation", augmentation == null ? "none" : augmentation.describe());
        return s;
    }

    /**
     * Trains until {@code epochs} epochs are done (counting those of the checkpoint it resumes
     * from) and returns the metrics of every epoch. Before anything changes, the model is checked
     * against the data, the run folder is made, checked writable and locked for this run (see
     * {@link RunFolder}), and a checkpoint to resume from is checked against this run. The model's
     * {@link ModelInfo} is set from the training set's normalization and class names. With a run
     * folder, the best epoch's weights are kept on the host for the checkpoint while a later
     * epoch is not the best.
     *
     * @param train the training set; its last partial batch of each epoch is skipped
     * @return the metrics of every epoch so far, including those of a checkpoint resumed from
     * @throws IllegalArgumentException when the model does not fit the data, the training set is smaller than
     *     one batch, early stopping has no validation set, or the checkpoint does not fit this run (a
     *     different model, settings or training set)
     * @throws TrainingDivergedException when the training or validation loss becomes NaN or infinite
     * @throws IOException when the run folder cannot be written or another run holds it
     */
    public List<Metrics> fit(Dataset train) throws IOException {
        Evaluation.checkFits(model, train, "Trainer");
        if (validation != null) {
            Evaluation.checkFits(model, validation, "Trainer (validation)");
        }
        if (train.size() < batchSize) {
            throw new IllegalArgumentException("Trainer: the training set has " + train.size()
                    + " images, fewer than one batch of " + batchSize);
        }
        if (patience > 0 && validation == null) {
            throw new IllegalArgumentException("Trainer: early stopping needs a validation set");
        }
        try (RunFolder.Lock lock = runFolder == null ? null : runFolder.lock()) {
            return train(train);
        }
    }

    private List<Metrics> train(Dataset train) throws IOException {
        if (resume != null && epochsDone == 0 && history.isEmpty()) {
            restore(resume, train);
        }
        model.setInfo(new ModelInfo(train.normalization(), train.classNames()));
        Backend backend = model.backend();
        Batches batches = Batches.shuffled(train, batchSize, true, seed);
        if (augmentation != null) {
            batches = batches.augmented(augmentation);
        }
        int item = train.itemShape().size();
        try (TrainingStep trainingStep = new TrainingStep(model, loss, optimizer, schedule, accumulation);
                Prefetcher data = new Prefetcher(batches, item);
                RunningStats stats = new RunningStats(backend, WINDOW * accumulation, batchSize / accumulation)) {
            while (epochsDone < epochs && !stoppedEarly()) {
                int epoch = epochsDone;
                Batches.Epoch order = batches.epoch(epoch);
                int count = order.count();
                float epochLr = schedule.lr(epoch, baseLr);
                stats.reset();
                long start = System.nanoTime();
                long waited = 0;
                long total = (long) count * batchSize;
                for (TrainingListener l : listeners) {
                    l.epochStarted(epoch + 1, epochs, total);
                }
                data.start(order);
                for (int b = 0; b < count; b++) {
                    float lr = trainingStep.start(epoch, epoch + (double) b / count);
                    long wait = System.nanoTime();
                    Prefetcher.Batch batch = data.take(b);
                    waited += System.nanoTime() - wait;
                    int at = step;
                    boolean[] due = {false};
                    trainingStep.gradients(batch.images(), batch.labels(), batchSize, step, 0, 1f,
                            (stepLoss, output, labels) -> due[0] |= stats.record(at, stepLoss, output, labels));
                    trainingStep.update();
                    step++;
                    if (due[0] || b == count - 1) {
                        tally(stats, trainingStep);
                        steps.add(new StepMetrics(epoch + 1, step, stats.windowMeanLoss(), stats.windowAccuracy(), lr));
                        for (TrainingListener l : listeners) {
                            l.progress(stats.images(), stats.meanLoss(), stats.accuracy());
                        }
                    }
                }
                backend.synchronize();
                double seconds = (System.nanoTime() - start) / 1e9;
                Evaluation val = validation == null ? null : Evaluation.of(model, loss, validation, batchSize);
                if (val != null && !Double.isFinite(val.loss())) {
                    // Step losses can stay finite while outputs grow until the validation sum overflows.
                    throw new TrainingDivergedException(epoch + 1, step, "the validation loss is " + val.loss(),
                            epochLr, null);
                }
                Metrics m = new Metrics(epoch + 1, stats.meanLoss(), stats.accuracy(),
                        val == null ? Double.NaN : val.loss(), val == null ? Double.NaN : val.accuracy(),
                        Double.parseDouble(Float.toString(epochLr)), seconds, stats.images() / seconds, waited / 1e9);
                history.add(m);
                lastValidation = val;
                epochsDone++;
                LOG.log(System.Logger.Level.INFO, () -> m.summary(epochs));
                if (runFolder != null) {
                    ModelDescription now = model.describe();
                    if (Checkpoint.bestEpoch(history) == m.epoch()) {
                        best = new Checkpoint.Best(m.epoch(), now);
                    }
                    runFolder.writeEpoch(checkpoint(now, train.size()), val, model.info(), modelMetadata);
                }
                for (TrainingListener l : listeners) {
                    l.epochEnded(m, Collections.unmodifiableList(history), Collections.unmodifiableList(steps), val,
                            runFolder == null ? null : runFolder.dir());
                }
            }
        }
        if (runFolder != null) {
            // A resume with no epoch left to run, into a folder without the model file, still leaves it there.
            runFolder.writeModel(best, model.info(), modelMetadata);
        }
        return Collections.unmodifiableList(history);
    }

    /**
     * Whether early stopping ends the run: the last {@code patience} epochs did not beat the best
     * validation accuracy before them.
     */
    private boolean stoppedEarly() {
        if (patience <= 0 || history.size() <= patience) {
            return false;
        }
        double before = history.subList(0, history.size() - patience).stream().mapToDouble(Metrics::valAccuracy).max()
                .orElse(Double.NaN);
        return history.subList(history.size() - patience, history.size()).stream()
                .allMatch(m -> m.valAccuracy() <= before);
    }

    /**
     * {@return the epoch (from 1) whose model the run folder holds: the best by validation accuracy, else the last;
     * 0 before any epoch}
     */
    public int bestEpoch() {
        return Checkpoint.bestEpoch(history);
    }

    /** {@return whether early stopping ended the last {@link #fit} before its epochs were done} */
    public boolean stopped() {
        return epochsDone < epochs && stoppedEarly();
    }

    private static void tally(RunningStats stats, TrainingStep trainingStep) {
        int bad = stats.flush();
        if (bad >= 0) {
            trainingStep.checkLoss(stats.badLoss(), bad);
        }
    }

    /** The state after the epochs done so far, as {@link #fit} writes it to the run folder. */
    private Checkpoint checkpoint(ModelDescription now, int trainSize) {
        return new Checkpoint(now, optimizer.getClass().getSimpleName(), optimizer.exportState(), epochsDone, step,
                seed, batchSize, trainSize, history, steps, settings(), best);
    }

    /** Checks everything a bit-exact resume needs, then loads the weights and optimizer state. */
    private void restore(Checkpoint c, Dataset train) {
        String why = null;
        if (!c.model().architecture().equals(model.architecture())) {
            why = "its architecture differs from the model's (build the model from the checkpoint's architecture)";
        } else if (!c.optimizer().equals(optimizer.getClass().getSimpleName())) {
            why = "it was trained with " + c.optimizer() + ", this run uses " + optimizer.getClass().getSimpleName();
        } else if (c.seed() != seed) {
            why = "it was trained with seed " + c.seed() + ", this run has seed " + seed;
        } else if (c.batchSize() != batchSize) {
            why = "it was trained with batch size " + c.batchSize() + ", this run has " + batchSize;
        } else if (c.trainSize() != train.size()) {
            why = "it was trained on " + c.trainSize() + " images, this run has " + train.size();
        } else if (c.history().size() != c.epoch()) {
            why = "it holds metrics of " + c.history().size() + " epochs but says " + c.epoch() + " are done";
        } else if (c.epoch() > epochs) {
            why = "it has done " + c.epoch() + " epochs already, more than this run's " + epochs;
        } else if (!allowChangedSettings) {
            why = changedSettings(c.settings());
        }
        if (why != null) {
            throw new IllegalArgumentException("Trainer: cannot resume from the checkpoint: " + why);
        }
        if (c.settings().isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "the checkpoint predates recorded training settings; they are not"
                    + " compared");
        }
        Map<String, HostTensor> before = model.stateDict();
        model.loadStateDict(c.model().state());
        try {
            optimizer.importState(c.optimizerState(), model.parameters());
        } catch (IllegalArgumentException e) {
            model.loadStateDict(before);
            throw new IllegalArgumentException("Trainer: cannot resume from the checkpoint: " + e.getMessage(), e);
        }
        epochsDone = c.epoch();
        best = c.best();
        step = c.step();
        history.addAll(c.history());
        steps.addAll(c.steps());
    }

    /** Every setting that differs from the checkpoint's, or null when none does. */
    private String changedSettings(Map<String, String> recorded) {
        List<String> changed = new ArrayList<>();
        for (Map.Entry<String, String> e : settings().entrySet()) {
            String was = recorded.get(e.getKey());
            if (!recorded.isEmpty() && !e.getValue().equals(was)) {
                changed.add(e.getKey() + " " + (was == null ? "(not recorded)" : was) + " -> " + e.getValue());
            }
        }
        return changed.isEmpty() ? null : "its settings differ: " + String.join("; ", changed)
                + " (allow changed settings to resume anyway)";
    }

    /**
     * {@return the smoothed training loss of every window of steps so far, including a checkpoint's (a read-only view)}
     */
    public List<StepMetrics> stepHistory() {
        return Collections.unmodifiableList(steps);
    }

    /** {@return the metrics of every epoch so far, including those of a checkpoint resumed from (a read-only view)} */
    public List<Metrics> history() {
        return Collections.unmodifiableList(history);
    }

    /** {@return the validation of the last epoch trained in this process, or null when there was none} */
    public Evaluation lastValidation() {
        return lastValidation;
    }

    /** {@return the epochs done, counting those of a checkpoint resumed from} */
    public int epochsDone() {
        return epochsDone;
    }

    /** {@return the training steps done, which is the next step's number (dropout masks are keyed by it)} */
    public int step() {
        return step;
    }

    /** model, loss, optimizer and epochs are required. */
    public static final class Builder {
        private Model model;
        private Loss loss;
        private Optimizer optimizer;
        private LrSchedule schedule = LrSchedule.constant();
        private int epochs;
        private int batchSize = 64;
        private int accumulation = 1;
        private long seed;
        private Path outputDir;
        private Dataset validation;
        private final List<TrainingListener> listeners = new ArrayList<>();
        private Checkpoint resume;
        private boolean allowChangedSettings;
        private Augmentation augmentation;
        private int patience;
        private Map<String, String> modelMetadata = Map.of();

        private Builder() {
        }

        /**
         * Changes every training image as its batch is filled (random crops, flips); none by default.
         *
         * @param augmentation the augmentation, or null for none
         * @return this builder
         */
        public Builder augmentation(Augmentation augmentation) {
            this.augmentation = augmentation;
            return this;
        }

        /**
         * Stops when {@code patience} epochs in a row have not beaten the best validation accuracy
         * before them; needs a validation set. Off (0) by default.
         *
         * @param patience epochs without improvement, ≥ 0 (checked by {@link #build()}); 0 turns it off
         * @return this builder
         */
        public Builder earlyStopping(int patience) {
            this.patience = patience;
            return this;
        }

        /**
         * Extra string metadata for the model file the run folder keeps; none by default.
         *
         * @param metadata keys and values, copied when the trainer is built
         * @return this builder
         */
        public Builder modelMetadata(Map<String, String> metadata) {
            this.modelMetadata = metadata;
            return this;
        }

        /**
         * The model to train (required); the trainer borrows it, the caller closes it.
         *
         * @param model the classifier: one score per class
         * @return this builder
         */
        public Builder model(Model model) {
            this.model = model;
            return this;
        }

        /**
         * The loss to minimize (required); the trainer borrows it, the caller closes it.
         *
         * @param loss e.g. {@code Loss.softmaxCrossEntropy()}
         * @return this builder
         */
        public Builder loss(Loss loss) {
            this.loss = loss;
            return this;
        }

        /**
         * The optimizer (required); its learning rate at build time is the base rate the schedule scales. The
         * trainer borrows it, the caller closes it.
         *
         * @param optimizer e.g. {@code Optimizer.adam(1e-3).build()}
         * @return this builder
         */
        public Builder optimizer(Optimizer optimizer) {
            this.optimizer = optimizer;
            return this;
        }

        /**
         * Learning rate per epoch; constant by default.
         *
         * @param schedule not null (checked by {@link #build()})
         * @return this builder
         */
        public Builder schedule(LrSchedule schedule) {
            this.schedule = schedule;
            return this;
        }

        /**
         * Total epochs, including those of a checkpoint resumed from (required).
         *
         * @param epochs ≥ 1, checked by {@link #build()}
         * @return this builder
         */
        public Builder epochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        /**
         * Images per optimizer step; 64 by default.
         *
         * @param batchSize ≥ 1, checked by {@link #build()}; the training set must hold at least one batch
         * @return this builder
         */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /**
         * Splits each batch into {@code steps} micro-batches run one after the other, whose
         * gradients add up to the whole batch's (less memory for the same result within fp32
         * rounding); 1 by default. The batch size must be a multiple of it.
         *
         * @param steps ≥ 1, dividing the batch size, checked by {@link #build()}
         * @return this builder
         */
        public Builder accumulationSteps(int steps) {
            this.accumulation = steps;
            return this;
        }

        /**
         * Seeds the order of each epoch; 0 by default.
         *
         * @param seed any value; epoch e's order depends only on (seed, e)
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * The run folder: checkpoint, model file (the best epoch's by validation accuracy),
         * metrics.csv and confusion.csv after each epoch. None by default.
         *
         * @param dir the folder, made if missing, or null for none
         * @return this builder
         */
        public Builder outputDir(Path dir) {
            this.outputDir = dir;
            return this;
        }

        /**
         * A validation set, evaluated after each epoch; none by default.
         *
         * @param validation the images and labels, or null for none
         * @return this builder
         */
        public Builder validation(Dataset validation) {
            this.validation = validation;
            return this;
        }

        /**
         * Adds a listener, told of each epoch's start, progress and end; none by default.
         *
         * @param listener called on the training thread; an exception it throws stops training
         * @return this builder
         * @throws IllegalArgumentException when listener is null
         */
        public Builder listener(TrainingListener listener) {
            if (listener == null) {
                throw new IllegalArgumentException("Trainer: listener must not be null");
            }
            listeners.add(listener);
            return this;
        }

        /**
         * Goes on from a checkpoint; {@link #fit} checks that it fits this run.
         *
         * @param checkpoint e.g. {@code Checkpoint.read(runFolder.checkpoint())}, or null to start afresh
         * @return this builder
         */
        public Builder resume(Checkpoint checkpoint) {
            this.resume = checkpoint;
            return this;
        }

        /**
         * Lets a resume go on although training settings (learning rate, optimizer settings,
         * schedule, loss, accumulation) differ from the checkpoint's; the model, seed, batch size
         * and training set must still match.
         *
         * @return this builder
         */
        public Builder allowChangedSettings() {
            this.allowChangedSettings = true;
            return this;
        }

        /**
         * Checks the settings and makes the trainer.
         *
         * @return the trainer, ready for {@link Trainer#fit}
         * @throws IllegalArgumentException when model, loss, optimizer or schedule is missing, or epochs, batch
         *     size, accumulation steps or patience is out of range
         */
        public Trainer build() {
            if (model == null || loss == null || optimizer == null) {
                throw new IllegalArgumentException("Trainer: model, loss and optimizer must be set");
            }
            if (epochs < 1) {
                throw new IllegalArgumentException("Trainer: epochs must be >= 1, got " + epochs);
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("Trainer: batch size must be >= 1, got " + batchSize);
            }
            if (accumulation < 1 || batchSize % accumulation != 0) {
                throw new IllegalArgumentException("Trainer: accumulation steps must be >= 1 and divide the batch size "
                        + batchSize + ", got " + accumulation);
            }
            if (schedule == null) {
                throw new IllegalArgumentException("Trainer: schedule must not be null");
            }
            if (patience < 0) {
                throw new IllegalArgumentException("Trainer: early-stopping patience must be >= 0, got " + patience);
            }
            return new Trainer(this);
        }
    }
}
