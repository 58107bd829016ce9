package dev.receptive.nn.loss;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * A loss over a batch, computed with its gradient in one fused op. The loss (1) and the
 * gradient ∂L/∂output are tensors owned by this object, allocated once per output shape and
 * overwritten by the next call:
 * <pre>
 * Tensor loss = criterion.compute(logits, labels);   // loss: (1)
 * workspace.backward(criterion.gradient());          // same shape as logits
 * </pre>
 */
public abstract class Loss implements AutoCloseable {
    private Tensor loss;
    private Tensor gradient;
    private final float[] host = new float[1];
    private boolean closed;

    /**
     * {@return a new softmax cross-entropy: mean over the batch of −log softmax(z)[label]; output z: (N, classes),
     * target: labels (N)}
     */
    public static Loss softmaxCrossEntropy() {
        return new SoftmaxCrossEntropy();
    }

    /**
     * Softmax cross-entropy against smoothed targets, PyTorch's {@code
     * CrossEntropyLoss(label_smoothing=ε)}: the target puts 1 − ε + ε/K on the label and ε/K on
     * each other class, so loss = (1 − ε)·CE − ε/(N·K)·Σ log softmax(z). ε = 0 is
     * {@link #softmaxCrossEntropy()}.
     *
     * @param labelSmoothing ε, in [0, 1)
     * @return a new loss; the caller closes it
     * @throws IllegalArgumentException when ε is outside [0, 1)
     */
    public static Loss softmaxCrossEntropy(double labelSmoothing) {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new IllegalArgumentException("Loss.softmaxCrossEntropy: label smoothing must be in [0, 1), got "
                    + labelSmoothing);
        }
        return labelSmoothing == 0 ? new SoftmaxCrossEntropy() : new SmoothedSoftmaxCrossEntropy((float) labelSmoothing);
    }

    /** {@return a new mean squared error: mean over all elements of (p − t)²; target: the output's shape} */
    public static Loss meanSquaredError() {
        return new MeanSquaredError();
    }

    /**
     * {@return a new multi-class hinge loss with margin 1 (PyTorch's MultiMarginLoss); output z: (N, classes),
     * target: labels (N)}
     */
    public static Loss hinge() {
        return new Hinge();
    }

    /** {@return a short name for messages and logs, e.g. "softmaxCrossEntropy"} */
    public abstract String name();

    /**
     * The loss of {@code output} against {@code target} and, in {@link #gradient()}, ∂L/∂output.
     *
     * @param output the model's output, e.g. logits (N, classes)
     * @param target on the same backend: class labels (N) stored as floats, or the output's shape for mean
     *     squared error
     * @return the loss (1), owned by this object and overwritten by the next call
     * @throws IllegalArgumentException when the shapes do not fit (or a label is out of range, where the
     *     backend sees it)
     * @throws IllegalStateException when this loss is closed
     */
    public final Tensor compute(Tensor output, Tensor target) {
        prepare(output);
        if (gradient == null || !gradient.shape().equals(output.shape())) {
            if (gradient != null) {
                gradient.close();
            }
            gradient = output.backend().allocate(output.shape());
        }
        computeInternal(output.backend(), loss, gradient, output, target);
        return loss;
    }

    /**
     * The loss only, for evaluation; the gradient is left as it was.
     *
     * @param output the model's output, as in {@link #compute}
     * @param target as in {@link #compute}
     * @return the loss (1), owned by this object and overwritten by the next call
     * @throws IllegalArgumentException when the shapes do not fit
     * @throws IllegalStateException when this loss is closed
     */
    public final Tensor evaluate(Tensor output, Tensor target) {
        prepare(output);
        computeInternal(output.backend(), loss, null, output, target);
        return loss;
    }

    /**
     * {@return ∂L/∂output of the last {@link #compute} call, the output's shape, owned by this object}
     *
     * @throws IllegalStateException before the first compute, or when this loss is closed
     */
    public final Tensor gradient() {
        checkOpen();
        if (gradient == null) {
            throw new IllegalStateException(name() + ": gradient() before compute()");
        }
        return gradient;
    }

    /**
     * {@return the last computed loss, read back to the host (this waits for the device)}
     *
     * @throws IllegalStateException before the first compute or evaluate, or when this loss is closed
     */
    public final float value() {
        checkOpen();
        if (loss == null) {
            throw new IllegalStateException(name() + ": value() before compute() or evaluate()");
        }
        loss.backend().download(loss, host);
        return host[0];
    }

    /**
     * Writes loss and, unless dOutput is null, dOutput; shapes are checked by the backend op.
     *
     * @param backend the output's backend
     * @param loss output (1)
     * @param dOutput output, the shape of output, or null for the loss only
     * @param output the model's output
     * @param target the target, as the caller gave it
     */
    protected abstract void computeInternal(Backend backend, Tensor loss, Tensor dOutput, Tensor output, Tensor target);

    private void prepare(Tensor output) {
        checkOpen();
        if (loss != null && loss.backend() != output.backend()) {
            release();
        }
        if (loss == null) {
            loss = output.backend().allocate(Shape.of(1));
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(name() + ": the loss is closed");
        }
    }

    @Override
    public final void close() {
        closed = true;
        release();
        closeInternal();
    }

    /** Frees what a subclass keeps besides the loss and gradient; called once by {@link #close()}. */
    protected void closeInternal() {
    }

    private void release() {
        if (gradient != null) {
            gradient.close();
            gradient = null;
        }
        if (loss != null) {
            loss.close();
            loss = null;
        }
    }
}
