package dev.receptive.train;

import java.nio.file.Path;
import java.util.List;

/**
 * Hears what a {@link Trainer} does, on the training thread: the command line draws its progress
 * bar and curves through one. Every method does nothing by default; an exception thrown by a
 * listener stops training.
 */
public interface TrainingListener {
    /**
     * An epoch starts.
     *
     * @param epoch the epoch, counted from 1
     * @param epochs the run's total epochs
     * @param images the images it will train (whole batches only)
     */
    default void epochStarted(int epoch, int epochs, long images) {
    }

    /**
     * Progress within the epoch, every few steps: images trained so far in this epoch, with the
     * running mean loss and accuracy over them.
     *
     * @param images images trained so far in this epoch
     * @param meanLoss the mean training loss over them
     * @param accuracy the fraction of them classified right
     */
    default void progress(long images, double meanLoss, double accuracy) {
    }

    /**
     * An epoch ended: its metrics, every epoch's so far and every window of steps so far
     * (including those of a checkpoint resumed from), its validation (null without one) and the
     * run folder (null without one), which holds the epoch's checkpoint and metrics when this is
     * called.
     *
     * @param metrics the epoch's figures
     * @param history every epoch's figures so far, this one last
     * @param steps every window of steps so far
     * @param validation the epoch's validation, or null without a validation set
     * @param runFolder the run folder, or null without one
     */
    default void epochEnded(Metrics metrics, List<Metrics> history, List<StepMetrics> steps, Evaluation validation,
            Path runFolder) {
    }
}
