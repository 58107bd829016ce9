package dev.receptive.nn;

/**
 * Which kind of forward pass a layer runs: training (dropout active, with the training step that
 * keys its mask) or evaluation (dropout is the identity).
 */
public final class Pass {
    /** Evaluation: no dropout. */
    public static final Pass EVAL = new Pass(false, 0);

    private final boolean training;
    private final int step;

    private Pass(boolean training, int step) {
        this.training = training;
        this.step = step;
    }

    /** A training pass at {@code step} (≥ 0); dropout masks differ from step to step. */
    public static Pass train(int step) {
        if (step < 0) {
            throw new IllegalArgumentException("Pass.train: step must be >= 0, got " + step);
        }
        return new Pass(true, step);
    }

    public boolean training() {
        return training;
    }

    /** The training step; 0 for {@link #EVAL}. */
    public int step() {
        return step;
    }

    @Override
    public String toString() {
        return training ? "train(step " + step + ")" : "eval";
    }
}
