package dev.receptive.backend;

import dev.receptive.tensor.Shape;

/**
 * Geometry of a 2-D cross-correlation (what PyTorch and cuDNN call convolution): stride, zero
 * padding and dilation per dimension. Output size per dimension:
 * {@code out = (in + 2·pad − dilation·(kernel − 1) − 1) / stride + 1} (floor division).
 *
 * @param strideH vertical stride, ≥ 1
 * @param strideW horizontal stride, ≥ 1
 * @param padH zero rows added above and below, ≥ 0
 * @param padW zero columns added left and right, ≥ 0
 * @param dilationH vertical spacing of the kernel's taps, ≥ 1
 * @param dilationW horizontal spacing of the kernel's taps, ≥ 1
 */
public record Conv2dParams(int strideH, int strideW, int padH, int padW, int dilationH, int dilationW) {

    /**
     * Checks the ranges.
     *
     * @param strideH vertical stride, ≥ 1
     * @param strideW horizontal stride, ≥ 1
     * @param padH zero rows added above and below, ≥ 0
     * @param padW zero columns added left and right, ≥ 0
     * @param dilationH vertical spacing of the kernel's taps, ≥ 1
     * @param dilationW horizontal spacing of the kernel's taps, ≥ 1
     * @throws IllegalArgumentException when a value is out of range
     */
    public Conv2dParams {
        if (strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || padH < 0 || padW < 0) {
            // Not `this`: in a compact constructor the fields are still 0.
            throw new IllegalArgumentException("conv2d: stride and dilation must be >= 1 and padding >= 0, got stride "
                    + strideH + "x" + strideW + ", padding " + padH + "x" + padW + ", dilation " + dilationH + "x"
                    + dilationW);
        }
    }

    /**
     * The same stride, padding and dilation in both dimensions.
     *
     * @param stride ≥ 1
     * @param pad ≥ 0
     * @param dilation ≥ 1
     * @return the parameters
     */
    public static Conv2dParams of(int stride, int pad, int dilation) {
        return new Conv2dParams(stride, stride, pad, pad, dilation, dilation);
    }

    /**
     * The output size of one dimension by the formula above, computed in 64 bits; may be ≤ 0
     * when the input is too small.
     *
     * @param in the input size
     * @param kernel the kernel size
     * @param stride the stride
     * @param pad the zero padding on each side
     * @param dilation the spacing of the kernel's taps
     * @return (in + 2·pad − dilation·(kernel − 1) − 1) / stride + 1, floor division
     * @throws IllegalArgumentException when the result does not fit in an int (e.g. dilation
     *     2^31 − 1), rather than a wrapped-around size
     */
    public static int outputSize(int in, int kernel, int stride, int pad, int dilation) {
        long out = Math.floorDiv((long) in + 2L * pad - (long) dilation * (kernel - 1L) - 1, stride) + 1;
        if (out != (int) out) {
            throw new IllegalArgumentException(String.format(
                    "conv2d: output size (in + 2*pad - dilation*(kernel - 1) - 1) / stride + 1"
                            + " = (%d + 2*%d - %d*(%d - 1) - 1) / %d + 1 = %d is outside the int range",
                    in, pad, dilation, kernel, stride, out));
        }
        return (int) out;
    }

    /**
     * The output shape of a convolution with these parameters.
     *
     * @param op the op named in an error message
     * @param x the input shape (N, C, H, W)
     * @param w the weight shape (K, C, R, S)
     * @return (N, K, P, Q)
     * @throws IllegalArgumentException naming {@code op} and both shapes when they do not fit
     */
    public Shape outputShape(String op, Shape x, Shape w) {
        if (x.rank() != 4 || w.rank() != 4 || x.dim(1) != w.dim(1)) {
            throw new IllegalArgumentException(op + ": input " + x + " (N, C, H, W) does not fit weights " + w
                    + " (K, C, R, S)");
        }
        int p = outputSize(x.dim(2), w.dim(2), strideH, padH, dilationH);
        int q = outputSize(x.dim(3), w.dim(3), strideW, padW, dilationW);
        if (p < 1 || q < 1) {
            throw new IllegalArgumentException(op + ": input " + x + " is too small for weights " + w + " with " + this
                    + ": output would be " + p + "x" + q
                    + " (out = (in + 2*pad - dilation*(kernel-1) - 1) / stride + 1)");
        }
        return Shape.of(x.dim(0), w.dim(0), p, q);
    }
}
