package dev.receptive.backend.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;

/**
 * Host↔device copies through two pinned (page-locked) host buffers: the GPU copies from pinned
 * memory by DMA at full bus speed, and Java arrays cannot be pinned. An upload copies a chunk of
 * the array into one buffer and queues its transfer, then fills the other buffer while the first
 * is in flight; an event per buffer says when the GPU is done reading it. The caller's array is
 * free to reuse as soon as upload returns.
 */
final class PinnedStaging implements AutoCloseable {
    private static final int CHUNK = 1 << 20; // floats per buffer (4 MiB)

    private final CUstream stream;
    private final Pointer[] host = new Pointer[2];
    private final FloatBuffer[] view = new FloatBuffer[2];
    private final CUevent[] done = new CUevent[2];

    PinnedStaging(CUstream stream) {
        this.stream = stream;
        try {
            for (int k = 0; k < 2; k++) {
                Pointer p = new Pointer();
                cuMemAllocHost(p, CHUNK * 4L);
                host[k] = p;
                view[k] = p.getByteBuffer(0, CHUNK * 4L).order(ByteOrder.nativeOrder()).asFloatBuffer();
                CUevent e = new CUevent();
                cuEventCreate(e, CUevent_flags.CU_EVENT_DISABLE_TIMING);
                done[k] = e;
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** dst[0..src.length) = src; returns once src has been copied to pinned memory. */
    void upload(CUdeviceptr dst, float[] src) {
        for (int off = 0, k = 0; off < src.length; off += CHUNK, k ^= 1) {
            int len = Math.min(CHUNK, src.length - off);
            cuEventSynchronize(done[k]); // the GPU has finished reading this buffer's last chunk
            FloatBuffer v = view[k];
            v.clear();
            v.put(src, off, len);
            cuMemcpyHtoDAsync(dst.withByteOffset(off * 4L), host[k], len * 4L, stream);
            cuEventRecord(done[k], stream);
        }
    }

    /** dst = src[0..dst.length); waits for all work queued before it on the stream. */
    void download(float[] dst, CUdeviceptr src) {
        for (int off = 0; off < dst.length; off += CHUNK) {
            int len = Math.min(CHUNK, dst.length - off);
            cuMemcpyDtoHAsync(host[0], src.withByteOffset(off * 4L), len * 4L, stream);
            cuEventRecord(done[0], stream);
            cuEventSynchronize(done[0]);
            FloatBuffer v = view[0];
            v.clear();
            v.get(dst, off, len);
        }
    }

    @Override
    public void close() {
        for (int k = 1; k >= 0; k--) {
            if (done[k] != null) {
                cuEventSynchronize(done[k]);
                cuEventDestroy(done[k]);
                done[k] = null;
            }
            if (host[k] != null) {
                cuMemFreeHost(host[k]);
                host[k] = null;
            }
        }
    }
}
