package dev.receptive.backend.cpu;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/** A tensor in a Java float array on the heap. */
final class CpuTensor extends Tensor {
    private float[] data;

    CpuTensor(Backend backend, Shape shape) {
        super(backend, shape);
        this.data = new float[shape.size()];
    }

    /** The backing array; only the CPU backend reaches it. */
    float[] data() {
        checkOpen();
        return data;
    }

    @Override
    protected void release() {
        data = null;
    }
}
