package dev.receptive.nn;

import dev.receptive.tensor.Shape;

/**
 * A tensor's values on the host with their shape: one entry of a state dict or optimizer state.
 *
 * @param shape the tensor's shape
 * @param data exactly shape.size() values in row-major order; held as given, not copied
 */
public record HostTensor(Shape shape, float[] data) {

    /**
     * Checks that the values fill the shape.
     *
     * @param shape the tensor's shape
     * @param data exactly shape.size() values in row-major order; held as given, not copied
     * @throws IllegalArgumentException when the counts differ
     */
    public HostTensor {
        if (data.length != shape.size()) {
            throw new IllegalArgumentException("HostTensor: " + data.length + " values do not fill shape " + shape);
        }
    }
}
