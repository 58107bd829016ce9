package dev.receptive.backend.cpu;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/** A tensor in a Java float array on the heap. */
final class CpuTensor extends Tensor {
    private final CpuBackend owner;
    private float[] data;

    CpuTensor(CpuBackend owner, Shape shape) {
        super(owner, shape);
        this.owner = owner;
        this.data = new float[shape.size()];
    }

    /** The backing array; only the CPU backend reaches it, and only while both are open. */
    float[] data() {
        checkOpen();
        owner.checkOpen();
        return data;
    }

    @Override
    protected void release() {
        data = null;
    }
}
