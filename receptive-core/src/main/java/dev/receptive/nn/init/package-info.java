/**
 * How weights start: {@link dev.receptive.nn.init.Init#he()} (the default of every layer) and
 * {@link dev.receptive.nn.init.Init#xavier()}, drawn from a stream seeded by the model seed and
 * the parameter's name, so the same seed builds the same model on every backend.
 */
package dev.receptive.nn.init;
