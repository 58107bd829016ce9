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
 * Host↔device copies through a ring of pinned (page-locked) host buffers: the GPU copies from
 * pinned memory by DMA at full bus speed, and Java arrays cannot be pinned. An upload copies a
 * chunk of the array into the next buffer of the ring and queues its transfer; an event per buffer
 * says when the GPU is done reading it, and the host waits for that only when the ring comes back
 * to a buffer still in flight. The ring goes on from one upload to the next, so a training step's
 * images and labels land in other buffers than the step before's: the host queues step t + 1
 * while the GPU still runs step t, instead of waiting, at the labels' upload, for the copy queued
 * behind step t. The caller's array is free to reuse as soon as upload returns.
 */
final class PinnedStaging implements AutoCloseable {
    private static final int CHUNK = 1 << 19; // floats per buffer (2 MiB)
    private static final int BUFFERS = 4; // two steps of (images, labels) in flight

    private final CUstream stream;
    private final Pointer[] host = new Pointer[BUFFERS];
    private final FloatBuffer[] view = new FloatBuffer[BUFFERS];
    private final CUevent[] done = new CUevent[BUFFERS];
    private int next; // the ring's next buffer

    PinnedStaging(CUstream stream) {
        this.stream = stream;
        try {
            for (int k = 0; k < BUFFERS; k++) {
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
        for (int off = 0; off < src.length; off += CHUNK) {
            int len = Math.min(CHUNK, src.length - off);
            int k = next;
            next = (next + 1) % BUFFERS;
            cuEventSynchronize(done[k]); // the GPU has finished reading this buffer's last chunk
            FloatBuffer v = view[k];
            v.clear();
            v.put(src, off, len);
            cuMemcpyHtoDAsync(dst.withByteOffset(off * 4L), host[k], len * 4L, stream);
            cuEventRecord(done[k], stream);
        }
    }

    /**
     * dst = src[0..dst.length); waits for all work queued before it on the stream. Stream order
     * keeps the copy into a buffer behind any upload still reading it.
     */
    void download(float[] dst, CUdeviceptr src) {
        for (int off = 0; off < dst.length; off += CHUNK) {
            int len = Math.min(CHUNK, dst.length - off);
            int k = next;
            next = (next + 1) % BUFFERS;
            cuMemcpyDtoHAsync(host[k], src.withByteOffset(off * 4L), len * 4L, stream);
            cuEventRecord(done[k], stream);
            cuEventSynchronize(done[k]);
            FloatBuffer v = view[k];
            v.clear();
            v.get(dst, off, len);
        }
    }

    @Override
    public void close() {
        for (int k = BUFFERS - 1; k >= 0; k--) {
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
