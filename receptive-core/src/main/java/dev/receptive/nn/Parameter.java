package dev.receptive.nn;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * A trainable tensor and its gradient, named like PyTorch's state dict ("0.weight", "3.bias").
 * The layer that made it owns both tensors. Backward overwrites {@code grad} (it does not
 * accumulate as PyTorch does), so there is nothing to zero between steps.
 */
public record Parameter(String name, Tensor value, Tensor grad) {

    public Parameter {
        if (!value.shape().equals(grad.shape())) {
            throw new IllegalArgumentException("Parameter " + name + ": value " + value.shape() + " and grad "
                    + grad.shape() + " differ in shape");
        }
    }

    public Shape shape() {
        return value.shape();
    }
}
