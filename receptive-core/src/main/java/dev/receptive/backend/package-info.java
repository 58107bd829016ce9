/**
 * The op contract and how a backend is chosen.
 *
 * <p>{@link dev.receptive.backend.Backend} lists every operation a layer may ask for, forward and
 * backward; {@link dev.receptive.backend.Backends} is the one place that chooses a backend ("auto",
 * or an engine found on the classpath through {@link dev.receptive.backend.BackendProvider}:
 * receptive-core's "cpu", receptive-cuda's "cuda"), and
 * {@link dev.receptive.backend.BackendCapabilities} says what a backend is without naming its class.
 * The records ({@link dev.receptive.backend.Conv2dParams},
 * {@link dev.receptive.backend.Pool2dParams}, {@link dev.receptive.backend.SgdParams},
 * {@link dev.receptive.backend.AdamParams}) describe an op's geometry or update rule;
 * {@link dev.receptive.backend.Philox} is the generator behind every dropout mask.
 * {@link dev.receptive.backend.AbstractBackend} is the base for writers of backends.
 * docs/design.md describes the contract and the dropout RNG.
 */
package dev.receptive.backend;
