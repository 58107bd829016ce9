package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.List;

/**
 * The inputs side by side along the channels, {@code torch.cat(xs, dim=1)}: (C_i, H, W) items
 * give (Σ C_i, H, W); flat (F_i) items give (Σ F_i).
 */
public final class Concat extends Merge {
    /** A concatenation of two or more inputs along the channel (or feature) dimension. */
    public Concat() {
    }

    @Override
    Shape outputShape(List<Shape> in) {
        Shape first = in.get(0);
        long channels = 0;
        for (Shape s : in) {
            boolean fits = s.rank() == first.rank();
            for (int d = 1; fits && d < s.rank(); d++) {
                fits = s.dim(d) == first.dim(d);
            }
            if (!fits) {
                throw new IllegalArgumentException("inputs of shapes " + in
                        + " cannot be concatenated: all dimensions but the first (channels) must be equal");
            }
            channels += s.dim(0);
        }
        if (channels > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("inputs of shapes " + in + " hold more than 2^31 - 1 channels in all");
        }
        int[] dims = first.dims().clone();
        dims[0] = (int) channels;
        return Shape.of(dims);
    }

    @Override
    void forward(Backend backend, Tensor y, List<Tensor> xs) {
        backend.concatForward(y, xs);
    }

    @Override
    void backward(Backend backend, List<Tensor> dxs, Tensor dy, List<Shape> in) {
        int[] channels = new int[in.size()];
        for (int i = 0; i < channels.length; i++) {
            channels[i] = in.get(i).dim(0);
        }
        backend.concatBackward(dxs, dy, channels);
    }
}
