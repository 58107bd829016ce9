package dev.receptive.backend.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * One stream with everything bound to it: a cuDNN handle (with its descriptor cache), a cuBLAS
 * handle, the convolution plans and workspace, pinned staging buffers and a view of the kernels.
 * Ops of one lane are queued by one thread at a time (its {@link #lock}); lanes overlap on the GPU.
 * See {@link LanePool} for which thread gets which lane.
 *
 * <p>Ordering between lanes uses events, never a host wait: before an op reads or writes a tensor
 * last written on another lane, {@link #waitFor} records an event on that lane's stream and makes
 * this stream wait for it. {@link #queued} counts the ops queued on this lane, so a lane waits for
 * another at most once per batch of new work there (weights written once are fenced once).
 */
final class CudaLane implements AutoCloseable {
    final int id;
    final CUstream stream;
    final ReentrantLock lock = new ReentrantLock();
    final PinnedStaging staging;
    final CudaKernels kernels;
    final Cudnn cudnn;
    final CudnnConv conv;
    final CudnnPool pool;
    final CudnnBatchNorm batchNorm;
    final CublasDense dense;
    private final AtomicLong queued = new AtomicLong();
    private final long[] waited; // per lane id: ops of that lane this stream already waits for
    private final CUevent[] fences; // per lane id, made on first use
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();

    /**
     * @param id the lane's number, below {@code lanes}
     * @param lanes how many lanes the backend may make
     * @param stream the stream to use, or null to make one (lane 0 uses the device's)
     */
    CudaLane(int id, int lanes, CUstream stream, CudaDevice device, CudaKernels loaded, CudaOptions options,
            CudnnConv.Choices choices) {
        this.id = id;
        this.waited = new long[lanes];
        this.fences = new CUevent[lanes];
        try {
            if (stream == null) {
                CUstream s = new CUstream();
                cuStreamCreate(s, CUstream_flags.CU_STREAM_DEFAULT);
                this.stream = s;
                owned.push(() -> {
                    cuStreamSynchronize(s);
                    cuStreamDestroy(s);
                });
            } else {
                this.stream = stream;
            }
            owned.push(() -> {
                for (CUevent e : fences) {
                    if (e != null) {
                        cuEventDestroy(e);
                    }
                }
            });
            staging = own(new PinnedStaging(this.stream));
            kernels = loaded.on(this.stream);
            cudnn = own(new Cudnn(this.stream));
            conv = own(new CudnnConv(cudnn, device, this.stream, options, choices, kernels));
            pool = own(new CudnnPool(cudnn));
            batchNorm = new CudnnBatchNorm(cudnn);
            dense = own(new CublasDense(this.stream, cudnn, options));
        } catch (RuntimeException | Error e) {
            try {
                close();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.push(resource);
        return resource;
    }

    /** Counts one more op queued on this lane; returns the count, the op's number. */
    long queuedOne() {
        return queued.incrementAndGet();
    }

    /** Whether this stream already waits for op {@code number} of lane {@code other}. */
    boolean waitsFor(int other, long number) {
        return waited[other] >= number;
    }

    /** Makes this stream wait, on the GPU, for every op queued on {@code other} so far. */
    void waitFor(CudaLane other) {
        long upTo = other.queued.get(); // read first: the event records at least these ops
        CUevent e = fences[other.id];
        if (e == null) {
            e = new CUevent();
            cuEventCreate(e, CUevent_flags.CU_EVENT_DISABLE_TIMING);
            fences[other.id] = e;
        }
        cuEventRecord(e, other.stream);
        cuStreamWaitEvent(stream, e, 0);
        waited[other.id] = Math.max(waited[other.id], upTo);
    }

    void synchronize() {
        cuStreamSynchronize(stream);
    }

    /** Waits for this lane's work, then releases its handles, buffers and stream, newest first. */
    @Override
    public void close() {
        RuntimeException first = null;
        try {
            cuStreamSynchronize(stream);
        } catch (RuntimeException e) {
            first = e;
        }
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException re ? re : new IllegalStateException(e);
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
