/**
 * Training a classifier and measuring it.
 *
 * <p>{@link dev.receptive.train.Trainer} runs epochs of seeded, shuffled batches (with gradient
 * accumulation, augmentation, validation and early stopping), writes a
 * {@link dev.receptive.train.RunFolder} after every epoch, and resumes from its
 * {@link dev.receptive.train.Checkpoint} bit for bit on deterministic backends. {@link dev.receptive.train.Metrics} and
 * {@link dev.receptive.train.StepMetrics} are the figures of an epoch and of a window of steps,
 * {@link dev.receptive.train.Evaluation} a model's loss, accuracy and confusion matrix on a
 * dataset, and a {@link dev.receptive.train.TrainingListener} hears progress on the training
 * thread. A loss that becomes NaN or infinite stops the run with a
 * {@link dev.receptive.train.TrainingDivergedException}.
 */
package dev.receptive.train;
