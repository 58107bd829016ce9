package dev.receptive.nn;

/**
 * A pair of sizes of a 2-D layer setting, height first: a kernel, stride, padding, dilation or
 * window. Architecture JSON writes it as {@code [height, width]}.
 *
 * @param height the vertical size
 * @param width the horizontal size
 */
public record HeightWidth(int height, int width) {
    /**
     * The same size in both dimensions.
     *
     * @param size the height and the width
     * @return the pair
     */
    public static HeightWidth square(int size) {
        return new HeightWidth(size, size);
    }

    /** Fails naming {@code what} unless the pair is given and both sizes are at least {@code min}. */
    static void check(HeightWidth pair, int min, String what) {
        if (pair == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        if (pair.height < min || pair.width < min) {
            throw new IllegalArgumentException(what + " must be >= " + min + ", got " + pair);
        }
    }

    /** {@return "5x5"} */
    @Override
    public String toString() {
        return height + "x" + width;
    }
}
