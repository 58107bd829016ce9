package dev.receptive.backend;

/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
 * counter-based generator behind every dropout mask; see DESIGN "Dropout RNG".
 */
public final class Philox {
    private Philox() {
    }
}
