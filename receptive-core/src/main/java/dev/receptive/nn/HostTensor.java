package dev.receptive.nn;

import dev.receptive.tensor.Shape;

/** A tensor's values on the host with their shape: one entry of a state dict or optimizer state. */
public record HostTensor(Shape shape, float[] data) {

    public HostTensor {
        if (data.length != shape.size()) {
            throw new IllegalArgumentException("HostTensor: " + data.length + " values do not fill shape " + shape);
        }
    }
}
