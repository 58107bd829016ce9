package dev.receptive.io;

import java.util.Arrays;

/**
 * A named tensor's content as stored in a file: its shape, outermost dimension first, and its
 * values in row-major order. A scalar has shape [] and one value.
 *
 * @param shape the dimensions, outermost first, each ≥ 0; held as given, not copied
 * @param data the values in row-major order; held as given, not copied
 */
public record TensorData(int[] shape, float[] data) {
    /**
     * Checks that the values fill the shape.
     *
     * @param shape the dimensions, outermost first, each ≥ 0
     * @param data exactly the product of the dimensions' values
     * @throws IllegalArgumentException when a dimension is negative or the counts differ
     */
    public TensorData {
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("TensorData: negative dimension in shape " + Arrays.toString(shape));
            }
        }
        long n = elementCount(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("TensorData: shape " + Arrays.toString(shape) + " holds " + n
                    + " values, got " + data.length);
        }
    }

    /** The product of the dimensions, saturated at 2^31 (more than any float[] holds). */
    static long elementCount(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n = Math.min(n * d, 1L << 31); // both factors ≤ 2^31: the product cannot overflow
        }
        return n;
    }
}
