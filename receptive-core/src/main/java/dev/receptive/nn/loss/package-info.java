/**
 * Losses over a batch, each computing the loss and its gradient on the backend in one call:
 * {@link dev.receptive.nn.loss.Loss#softmaxCrossEntropy()} (optionally with label smoothing),
 * {@link dev.receptive.nn.loss.Loss#meanSquaredError()} and
 * {@link dev.receptive.nn.loss.Loss#hinge()}. A loss owns the tensors it returns and is
 * {@link java.lang.AutoCloseable}.
 */
package dev.receptive.nn.loss;
