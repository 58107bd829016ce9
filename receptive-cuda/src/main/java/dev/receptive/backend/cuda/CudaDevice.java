package dev.receptive.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.nio.charset.StandardCharsets;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * One GPU as the backend sees it: the device's primary context (the one the CUDA runtime, and so
 * cuDNN and cuBLAS, use too) and the single stream every op is queued on.
 */
final class CudaDevice implements DeviceAllocator.Source, AutoCloseable {
    final CUstream stream = new CUstream();
    final String name;
    final int ccMajor;
    final int ccMinor;
    final long totalMemory;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private boolean retained;
    private boolean streamCreated;

    CudaDevice(int ordinal) {
        JCudaDriver.setExceptionsEnabled(true);
        cuInit(0);
        int[] count = new int[1];
        cuDeviceGetCount(count);
        if (ordinal >= count[0]) {
            throw new GpuException("cuda: device " + ordinal + " requested but " + count[0]
                    + " CUDA device(s) are visible (check CUDA_VISIBLE_DEVICES)");
        }
        cuDeviceGet(device, ordinal);
        byte[] raw = new byte[256];
        cuDeviceGetName(raw, raw.length, device);
        int len = 0;
        while (len < raw.length && raw[len] != 0) {
            len++;
        }
        name = new String(raw, 0, len, StandardCharsets.US_ASCII);
        ccMajor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        ccMinor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        long[] mem = new long[1];
        cuDeviceTotalMem(mem, device);
        totalMemory = mem[0];
        try {
            cuDevicePrimaryCtxRetain(context, device);
            retained = true;
            makeCurrent();
            // A blocking stream (not CU_STREAM_NON_BLOCKING): it stays ordered with any work a
            // library queues on the legacy default stream.
            cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT);
            streamCreated = true;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private int attribute(int which) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, which, device);
        return v[0];
    }

    /**
     * Makes this device's context current on the calling thread. CUDA contexts are current per
     * thread, so every op calls it: a backend may be handed between threads (one at a time).
     */
    void makeCurrent() {
        cuCtxSetCurrent(context);
    }

    void synchronize() {
        cuStreamSynchronize(stream);
    }

    @Override
    public CUdeviceptr allocate(long bytes) {
        CUdeviceptr p = new CUdeviceptr();
        cuMemAlloc(p, bytes);
        return p;
    }

    @Override
    public void free(CUdeviceptr ptr) {
        cuMemFree(ptr);
    }

    @Override
    public void close() {
        if (streamCreated) {
            makeCurrent();
            cuStreamSynchronize(stream);
            cuStreamDestroy(stream);
            streamCreated = false;
        }
        if (retained) {
            cuDevicePrimaryCtxRelease(device);
            retained = false;
        }
    }
}
