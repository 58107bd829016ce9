package dev.receptive.train;

/** The training loss became NaN or infinite: the run stops rather than train on garbage. */
public final class TrainingDivergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TrainingDivergedException(int epoch, int step, String what, float lr, Throwable cause) {
        super("training diverged at epoch " + epoch + ", step " + step + " (lr " + lr + "): " + what
                + "; try a lower learning rate or check the data for NaN", cause);
    }
}
