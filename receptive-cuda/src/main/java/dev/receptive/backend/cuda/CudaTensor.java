package dev.receptive.backend.cuda;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import jcuda.driver.CUdeviceptr;

/** A tensor in device memory, a block of the backend's caching allocator. */
final class CudaTensor extends Tensor {
    private final CudaBackend owner;
    private final DeviceAllocator.Block block;

    CudaTensor(CudaBackend owner, Shape shape, DeviceAllocator.Block block) {
        super(owner, shape);
        this.owner = owner;
        this.block = block;
    }

    /** The device address; only the CUDA backend reaches it. */
    CUdeviceptr ptr() {
        checkOpen();
        return block.ptr();
    }

    DeviceAllocator.Block block() {
        return block;
    }

    @Override
    protected void release() {
        owner.release(this);
    }
}
