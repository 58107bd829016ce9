package dev.receptive.backend.cuda;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import jcuda.driver.CUdeviceptr;

/** A tensor in device memory, a block of the backend's caching allocator. */
final class CudaTensor extends Tensor {
    private final CudaBackend owner;
    private final DeviceAllocator.Block block;
    // The lane and op that last wrote this tensor, set together under that lane's lock and read by
    // other lanes' threads: one long, so a reader never sees one half of a pair.
    private volatile long lastWrite = -1;

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

    /** Records that op {@code number} of lane {@code lane} (below 65,536) wrote this tensor. */
    void written(int lane, long number) {
        lastWrite = number << 16 | lane;
    }

    /** The lane that last wrote this tensor, or −1 before any write. */
    int writer() {
        long w = lastWrite;
        return w < 0 ? -1 : (int) (w & 0xFFFF);
    }

    /** The number, on its lane, of the op that last wrote this tensor. */
    long writerOp() {
        return lastWrite >>> 16;
    }

    DeviceAllocator.Block block() {
        return block;
    }

    @Override
    protected void release() {
        owner.release(this);
    }
}
