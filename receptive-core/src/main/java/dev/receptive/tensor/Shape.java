package dev.receptive.tensor;

import java.util.Arrays;

/** An immutable tensor shape; dimensions are listed outermost first (NCHW for images). */
public final class Shape {
    private final int[] dims;
    private final long size;

    private Shape(int[] dims) {
        long n = 1;
        for (int d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("shape dimensions must be positive: " + Arrays.toString(dims));
            }
            n *= d; // < 2^31 · 2^31: checked at every step, so it never overflows a long
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " has more than 2^31 elements");
            }
        }
        this.dims = dims;
        this.size = n;
    }

    /**
     * A shape of the given dimensions, outermost first: {@code Shape.of(64, 1, 28, 28)}.
     *
     * @param dims the dimensions, each ≥ 1
     * @return the shape
     * @throws IllegalArgumentException when a dimension is below 1 or the product reaches 2^31
     */
    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    /**
     * The number of dimensions.
     *
     * @return the rank, e.g. 4 for (N, C, H, W)
     */
    public int rank() {
        return dims.length;
    }

    /**
     * One dimension; negative axes count from the end, as in PyTorch.
     *
     * @param axis 0 for the outermost, −1 for the innermost
     * @return the size of that dimension
     * @throws ArrayIndexOutOfBoundsException when the axis is outside [−rank, rank)
     */
    public int dim(int axis) {
        return dims[axis < 0 ? dims.length + axis : axis];
    }

    /**
     * The dimensions, outermost first.
     *
     * @return a copy of the dimensions
     */
    public int[] dims() {
        return dims.clone();
    }

    /**
     * The number of elements.
     *
     * @return the product of the dimensions
     */
    public int size() {
        return (int) size;
    }

    /**
     * The elements per item of the outermost (batch) dimension.
     *
     * @return size() / dim(0), e.g. C·H·W for (N, C, H, W)
     */
    public int sizePerItem() {
        return (int) (size / dims[0]);
    }

    /**
     * This shape with the outermost dimension replaced: the same items in a batch of another size.
     *
     * @param n the new outermost dimension, ≥ 1
     * @return the new shape
     */
    public Shape withBatch(int n) {
        int[] d = dims.clone();
        d[0] = n;
        return new Shape(d);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(dims[i]);
        }
        return sb.append(dims.length == 1 ? ",)" : ")").toString();
    }
}
