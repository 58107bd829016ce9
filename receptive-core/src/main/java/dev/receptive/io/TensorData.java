package dev.receptive.io;

import java.util.Arrays;

/**
 * A named tensor's content as stored in a file: its shape, outermost dimension first, and its
 * values in row-major order. A scalar has shape [] and one value.
 */
public record TensorData(int[] shape, float[] data) {
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
