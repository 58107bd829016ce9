package dev.receptive.nn;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * A named tensor of a layer that is state but not trained, such as batch norm's running mean:
 * saved in model files and checkpoints and loaded back, never touched by the optimizer (PyTorch's
 * buffers, which its state_dict lists beside the parameters).
 */
public final class Buffer {
    private final String name;
    private final Shape shape;
    private final float initial;
    private Tensor value;

    Buffer(String name, Shape shape, float initial) {
        this.name = name;
        this.shape = shape;
        this.initial = initial;
    }

    /** {@return the state-dict name, e.g. "1.running_mean"} */
    public String name() {
        return name;
    }

    /** {@return the tensor's shape, e.g. (C) for a running mean} */
    public Shape shape() {
        return shape;
    }

    /**
     * {@return the tensor, owned by the layer (do not close it)}
     *
     * @throws IllegalStateException before the model is built
     */
    public Tensor value() {
        if (value == null) {
            throw new IllegalStateException("buffer " + name + " has no tensor yet: the model is not built");
        }
        return value;
    }

    /** Every element's value when the layer is new. */
    float initial() {
        return initial;
    }

    void attach(Tensor value) {
        this.value = value;
    }

    void release() {
        if (value != null) {
            value.close();
        }
    }

    @Override
    public String toString() {
        return "Buffer " + name + " " + shape;
    }
}
