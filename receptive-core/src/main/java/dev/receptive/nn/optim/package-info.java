/**
 * Optimizers and learning-rate schedules with PyTorch's formulas.
 *
 * <p>{@link dev.receptive.nn.optim.Optimizer#sgd}, {@link dev.receptive.nn.optim.Optimizer#adam}
 * and {@link dev.receptive.nn.optim.Optimizer#adamW} return builders; an optimizer updates each
 * parameter in place with one backend op and owns its per-parameter state (momentum, Adam's
 * moments), which {@link dev.receptive.nn.optim.OptimizerState} carries to and from a checkpoint.
 * {@link dev.receptive.nn.optim.LrSchedule} gives the learning rate at each point of training.
 */
package dev.receptive.nn.optim;
