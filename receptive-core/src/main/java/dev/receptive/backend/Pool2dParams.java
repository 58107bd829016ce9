package dev.receptive.backend;

import dev.receptive.tensor.Shape;

/**
 * Geometry of 2-D pooling: window, stride and padding per dimension. Max pooling ignores the
 * padding; average pooling counts padded zeros in the divisor (PyTorch's
 * {@code count_include_pad=True}, cuDNN's {@code AVERAGE_COUNT_INCLUDE_PADDING}). Output size:
 * {@code out = (in + 2·pad − window) / stride + 1} (floor division).
 *
 * @param windowH window height, ≥ 1
 * @param windowW window width, ≥ 1
 * @param strideH vertical stride, ≥ 1
 * @param strideW horizontal stride, ≥ 1
 * @param padH rows added above and below, 0 ≤ 2·padH ≤ windowH
 * @param padW columns added left and right, 0 ≤ 2·padW ≤ windowW
 */
public record Pool2dParams(int windowH, int windowW, int strideH, int strideW, int padH, int padW) {

    /**
     * Checks the ranges.
     *
     * @param windowH window height, ≥ 1
     * @param windowW window width, ≥ 1
     * @param strideH vertical stride, ≥ 1
     * @param strideW horizontal stride, ≥ 1
     * @param padH rows added above and below, 0 ≤ 2·padH ≤ windowH
     * @param padW columns added left and right, 0 ≤ 2·padW ≤ windowW
     * @throws IllegalArgumentException when a value is out of range
     */
    public Pool2dParams {
        // Not `this` in the messages: in a compact constructor the fields are still 0.
        String given = "window " + windowH + "x" + windowW + ", stride " + strideH + "x" + strideW + ", padding "
                + padH + "x" + padW;
        if (windowH < 1 || windowW < 1 || strideH < 1 || strideW < 1 || padH < 0 || padW < 0) {
            throw new IllegalArgumentException("pool2d: window and stride must be >= 1 and padding >= 0, got " + given);
        }
        if (2L * padH > windowH || 2L * padW > windowW) {
            throw new IllegalArgumentException("pool2d: padding must be at most half the window, got " + given);
        }
    }

    /**
     * A square window with the same stride and padding in both dimensions.
     *
     * @param window ≥ 1
     * @param stride ≥ 1
     * @param pad 0 ≤ 2·pad ≤ window
     * @return the parameters
     */
    public static Pool2dParams of(int window, int stride, int pad) {
        return new Pool2dParams(window, window, stride, stride, pad, pad);
    }

    /**
     * The output shape of pooling with these parameters.
     *
     * @param op the op named in an error message
     * @param x the input shape (N, C, H, W)
     * @return (N, C, P, Q)
     * @throws IllegalArgumentException naming {@code op} when x is not 4-D or the window does not fit
     */
    public Shape outputShape(String op, Shape x) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException(op + ": input must be (N, C, H, W), got " + x);
        }
        // in + 2·pad − window lies in [in − window, in] (pad ≤ window / 2), so it fits an int, but
        // in + 2·pad may not.
        int p = (int) Math.floorDiv((long) x.dim(2) + 2L * padH - windowH, strideH) + 1;
        int q = (int) Math.floorDiv((long) x.dim(3) + 2L * padW - windowW, strideW) + 1;
        if (p < 1 || q < 1) {
            throw new IllegalArgumentException(op + ": input " + x + " is too small for " + this);
        }
        return Shape.of(x.dim(0), x.dim(1), p, q);
    }
}
