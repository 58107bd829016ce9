package dev.receptive.train;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * Training loss and accuracy without a device round trip per step: each step's loss and argmax
 * are copied into one of {@code window} slots on the backend, and only {@link #flush} reads them
 * back, all at once. The epoch's sums accumulate on the host in double.
 */
final class RunningStats implements AutoCloseable {
    private final Backend backend;
    private final Tensor[] losses; // each (1)
    private final Tensor[] predictions; // each (batch)
    private final float[][] labels; // host copies of each slot's labels
    private final int[] steps;
    private final float[] loss = new float[1];
    private final float[] predicted;
    private int pending;
    private double lossSum;
    private long correct;
    private long images;
    private double windowLoss;
    private long windowCorrect;
    private long windowImages;
    private float badLoss;

    RunningStats(Backend backend, int window, int batch) {
        this.backend = backend;
        losses = new Tensor[window];
        predictions = new Tensor[window];
        labels = new float[window][batch];
        steps = new int[window];
        predicted = new float[batch];
        try {
            for (int i = 0; i < window; i++) {
                losses[i] = backend.allocate(Shape.of(1));
                predictions[i] = backend.allocate(Shape.of(batch));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Starts a new epoch's sums. */
    void reset() {
        pending = 0;
        lossSum = 0;
        correct = 0;
        images = 0;
    }

    /**
     * Keeps step {@code step}'s mean loss (1) and output (batch, classes) with its host labels.
     *
     * @return true when the window is full and {@link #flush} is due
     */
    boolean record(int step, Tensor stepLoss, Tensor output, float[] stepLabels) {
        backend.copy(losses[pending], stepLoss);
        backend.argmax(predictions[pending], output);
        System.arraycopy(stepLabels, 0, labels[pending], 0, predicted.length);
        steps[pending] = step;
        pending++;
        return pending == losses.length;
    }

    /**
     * Reads back the pending steps and adds them to the sums.
     *
     * @return the first pending step whose loss is NaN or infinite, or -1
     */
    int flush() {
        int bad = -1;
        windowLoss = 0;
        windowCorrect = 0;
        windowImages = 0;
        for (int s = 0; s < pending; s++) {
            backend.download(losses[s], loss);
            if (!Float.isFinite(loss[0]) && bad < 0) {
                bad = steps[s];
                badLoss = loss[0];
            }
            backend.download(predictions[s], predicted);
            for (int i = 0; i < predicted.length; i++) {
                windowCorrect += predicted[i] == labels[s][i] ? 1 : 0;
            }
            windowLoss += (double) loss[0] * predicted.length;
            windowImages += predicted.length;
        }
        pending = 0;
        lossSum += windowLoss;
        correct += windowCorrect;
        images += windowImages;
        return bad;
    }

    /** The loss that made {@link #flush} report a step. */
    float badLoss() {
        return badLoss;
    }

    /** The mean loss over the steps of the last flush. */
    double windowMeanLoss() {
        return windowImages == 0 ? Double.NaN : windowLoss / windowImages;
    }

    /** The accuracy over the steps of the last flush. */
    double windowAccuracy() {
        return windowImages == 0 ? Double.NaN : (double) windowCorrect / windowImages;
    }

    double meanLoss() {
        return images == 0 ? Double.NaN : lossSum / images;
    }

    double accuracy() {
        return images == 0 ? Double.NaN : (double) correct / images;
    }

    long images() {
        return images;
    }

    @Override
    public void close() {
        for (int i = losses.length - 1; i >= 0; i--) {
            if (predictions[i] != null) {
                predictions[i].close();
            }
            if (losses[i] != null) {
                losses[i].close();
            }
        }
    }
}
