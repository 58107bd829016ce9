package dev.receptive.train;

import java.nio.file.Path;
import java.util.List;

/**
 * Hears what a {@link Trainer} does, on the training thread: the command line draws its progress
 * bar and curves through one. Every method does nothing by default; an exception thrown by a
 * listener stops training.
 */
public interface TrainingListener {
    /** Epoch {@code epoch} (counted from 1) of {@code epochs} starts; it will train {@code images} images. */
    default void epochStarted(int epoch, int epochs, long images) {
    }

    /**
     * Progress within the epoch, every few steps: images trained so far in this epoch, with the
     * running mean loss and accuracy over them.
     */
    default void progress(long images, double meanLoss, double accuracy) {
    }

    /**
     * An epoch ended: its metrics, every epoch's so far and every window of steps so far
     * (including those of a checkpoint resumed from), its validation (null without one) and the
     * run folder (null without one), which holds the epoch's checkpoint and metrics when this is
     * called.
     */
    default void epochEnded(Metrics metrics, List<Metrics> history, List<StepMetrics> steps, Evaluation validation,
            Path runFolder) {
    }
}
