package dev.receptive.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpy2DAsync;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;

import dev.receptive.backend.AbstractBackend;
import dev.receptive.backend.Activation;
import dev.receptive.backend.AdamParams;
import dev.receptive.backend.BackendCapabilities;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.backend.SgdParams;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.atomic.AtomicReferenceArray;
import jcuda.CudaException;
import jcuda.driver.CUDA_MEMCPY2D;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUmemorytype;
import jcuda.jcudnn.JCudnn;

/**
 * The GPU backend: cuDNN for convolution, pooling and softmax, cuBLAS for dense layers, and
 * Receptive's own PTX kernels (native-kernels/) for everything else. Every op is queued on a CUDA
 * stream and returns without waiting; {@link #download} waits for its stream, {@link #synchronize}
 * for all of them.
 *
 * <p>Differences from the CPU reference, all within the contract:
 * <ul>
 *   <li>Losses never throw for NaN input or a bad label, since checking would mean waiting for
 *       the device: the loss comes out NaN instead, seen when it is downloaded.</li>
 *   <li>Sums run in another order (cuDNN, cuBLAS, tree reductions): results agree with the CPU's
 *       to fp32 rounding, not bit for bit. Dropout masks and optimizer updates are bit-identical.</li>
 * </ul>
 *
 * <p>Thread-safe, and threads overlap: each thread gets a lane of its own ({@link LanePool}: a
 * stream with its own cuDNN and cuBLAS handles, convolution workspace and pinned buffers) while
 * fewer than {@link CudaOptions#streams()} exist, and threads beyond that share lane 0, whose lock
 * serializes them as the backend's one lock did. A thread's work stays on its lane, so a training
 * loop runs on one stream in program order (deterministic as before), and several threads
 * predicting on one model run their forward passes side by side. Lanes order themselves by
 * events, never host waits: an op on a tensor another lane wrote first waits, on the GPU, for that
 * lane's work so far ({@link CudaLane#waitFor}); a download waits for its own lane only. The
 * allocator keeps its cache per lane (see {@link DeviceAllocator}), and every lane runs the same
 * cuDNN algorithm for the same geometry, so a prediction gives the same bits on every thread.
 * Not covered: a tensor written on one lane while another lane's queued reads of it have not run
 * (training a model while it predicts), which the model API does not allow either.
 */
public final class CudaBackend extends AbstractBackend {
    private final CudaOptions options;
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private final CudaDevice device;
    private final DeviceAllocator memory;
    private final LanePool<CudaLane> lanes;
    private final AtomicReferenceArray<CudaLane> laneById;
    private final String description;
    private final BackendCapabilities capabilities;
    private final Object closing = new Object();
    private volatile boolean closed;

    /**
     * Opens device 0 with the default options (see {@link CudaOptions#defaults()}).
     *
     * @throws GpuException when CUDA, cuDNN or cuBLAS cannot be used
     */
    public CudaBackend() {
        this(CudaOptions.defaults());
    }

    /**
     * Opens the device and loads every library and kernel; nothing is loaded lazily, so a broken
     * installation fails here, not in the middle of training.
     *
     * @param options the device and how to trade speed for parity
     * @throws GpuException when CUDA, cuDNN or cuBLAS cannot be used (the message names the library
     *     call that failed; {@code Backends} diagnoses a broken installation before this)
     */
    public CudaBackend(CudaOptions options) {
        this.options = options;
        try {
            device = own(new CudaDevice(options.device()));
            laneById = new AtomicReferenceArray<>(options.streams());
            memory = own(new DeviceAllocator(device, (waiter, other) -> laneById.get(waiter).waitFor(laneById.get(other))));
            CudaKernels kernels = own(new CudaKernels(device.stream));
            CudnnConv.Choices choices = new CudnnConv.Choices();
            lanes = own(new LanePool<>(options.streams(), id -> {
                device.makeCurrent();
                CudaLane lane = new CudaLane(id, options.streams(), id == 0 ? device.stream : null, device, kernels,
                        options, choices);
                laneById.set(id, lane);
                return lane;
            }));
            CudaDevice opened = device;
            owned.push(() -> { // closed first: nothing may still run when memory is freed
                opened.makeCurrent();
                for (CudaLane lane : lanes.all()) {
                    lane.synchronize();
                }
            });
            String gpu = String.format("%s, sm_%d%d, %.1f GiB", device.name, device.ccMajor, device.ccMinor,
                    device.totalMemory / (double) (1L << 30));
            String libraries = "cuDNN " + CudaProbe.libraryVersion(JCudnn.cudnnGetVersion()) + ", cuBLAS "
                    + CudaProbe.libraryVersion(lanes.shared().dense.version());
            description = "cuda (" + gpu + ", " + libraries + (options.deterministic() ? ", deterministic" : "")
                    + (options.fastMath() ? ", fast math" : "")
                    + (options.precision() == CudaOptions.Precision.FP32 ? "" : ", " + precisionName(options))
                    + ", " + options.streams() + " stream"
                    + (options.streams() == 1 ? "" : "s") + ")";
            // Host threads only queue work on the one stream: 0 threads compute. Every op but the cuDNN
            // convolutions is deterministic; those are when the option restricts their algorithms.
            capabilities = new BackendCapabilities("cuda", gpu, BackendCapabilities.Memory.DEVICE, 0,
                    options.deterministic(), libraries + (options.fastMath() ? ", TF32" : "")
                    + (options.precision() == CudaOptions.Precision.FP32 ? "" : ", " + precisionName(options)));
        } catch (RuntimeException | Error e) {
            try {
                closeOwned();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            if (e instanceof CudaException) {
                throw new GpuException("cuda: opening device " + options.device(), "", e.getMessage(), e);
            }
            throw e;
        }
    }

    private static String precisionName(CudaOptions options) {
        return options.precision().name().toLowerCase(java.util.Locale.ROOT);
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.push(resource);
        return resource;
    }

    /**
     * The options this backend was opened with.
     *
     * @return its options
     */
    public CudaOptions options() {
        return options;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public BackendCapabilities capabilities() {
        return capabilities;
    }

    /** {@inheritDoc} The allocator gives its cached blocks back when the device runs out, so they count as free. */
    @Override
    public long freeMemory() {
        long[] free = new long[1];
        run("freeMemory", lane -> {
            cuMemGetInfo(free, new long[1]);
            free[0] += memory.cachedBytes();
        }, 0);
        return free[0];
    }

    // ---- memory accounting (read by tests and benchmarks) -------------------------------

    /**
     * Device bytes held by open tensors of this backend (rounded up to allocator size classes).
     *
     * @return bytes in use
     */
    public long liveBytes() {
        return memory.liveBytes();
    }

    /**
     * Device bytes in the allocator's free lists, kept for reuse by later tensors.
     *
     * @return bytes cached
     */
    public long cachedBytes() {
        return memory.cachedBytes();
    }

    /**
     * Device bytes of the cuDNN convolution workspace.
     *
     * @return the workspace's size
     */
    public long workspaceBytes() {
        long bytes = 0;
        for (CudaLane lane : lanes.all()) {
            bytes += lane.conv.workspaceBytes();
        }
        return bytes;
    }

    /**
     * Lanes (streams with their own handles and workspaces) made so far, the shared one included.
     *
     * @return at least 1, at most {@link CudaOptions#streams()}
     */
    public int streamsInUse() {
        return lanes.size();
    }

    /**
     * How many times the allocator took memory from the device: flat in a steady training loop.
     *
     * @return cuMemAlloc calls so far
     */
    public long deviceAllocations() {
        return memory.deviceAllocations();
    }

    // ---- memory -------------------------------------------------------------------------

    @Override
    public Tensor allocate(Shape shape) {
        checkOpen("allocate");
        CudaLane lane = lanes.current();
        lane.lock.lock();
        DeviceAllocator.Block b = null;
        try {
            device.makeCurrent();
            b = memory.allocate(shape.size() * 4L, lane.id);
            cuMemsetD32Async(b.ptr(), 0, shape.size(), lane.stream);
            CudaTensor t = new CudaTensor(this, shape, b);
            t.written(lane.id, lane.queuedOne());
            return t;
        } catch (CudaException e) {
            if (b != null) {
                memory.free(b, lane.id);
            }
            throw new GpuException("allocate", "[" + shape + "]", e.getMessage(), e);
        } finally {
            lane.lock.unlock();
        }
    }

    /**
     * Called by {@link CudaTensor#close}: the block goes back to the cache of the closing thread's
     * lane, after that lane is ordered behind the tensor's last writer when it was another lane.
     * The closing thread's own reads of the tensor are on its lane, so they run before any reuse;
     * reads queued on a third lane must be done (downloaded) before the tensor is closed.
     */
    void release(CudaTensor t) {
        if (closed) {
            memory.free(t.block(), 0); // a no-op: the allocator gave everything back
            return;
        }
        CudaLane lane = lanes.currentOrShared();
        lane.lock.lock();
        try {
            int writer = t.writer();
            if (writer >= 0 && writer != lane.id) {
                device.makeCurrent();
                lane.waitFor(laneById.get(writer));
            }
            memory.free(t.block(), lane.id);
        } catch (CudaException e) {
            throw new GpuException("close", "[" + t.shape() + "]", e.getMessage(), e);
        } finally {
            lane.lock.unlock();
        }
    }

    @Override
    protected void uploadImpl(Tensor dst, float[] data) {
        run("upload", lane -> lane.staging.upload(ptr(dst), data), 1, dst);
    }

    @Override
    protected void downloadImpl(Tensor src, float[] dst) {
        // Waits for this lane's stream only (an event), never for the device or other lanes.
        run("download", lane -> lane.staging.download(dst, ptr(src)), 0, src);
    }

    @Override
    protected void copyImpl(Tensor dst, Tensor src) {
        run("copy", lane -> cuMemcpyDtoDAsync(ptr(dst), ptr(src), src.size() * 4L, lane.stream), 1, dst, src);
    }

    @Override
    protected void fillImpl(Tensor dst, float value) {
        run("fill", lane -> cuMemsetD32Async(ptr(dst), Float.floatToRawIntBits(value), dst.size(), lane.stream), 1,
                dst);
    }

    /** {@inheritDoc} Waits for the work of every lane (stream), as the one stream did. */
    @Override
    public void synchronize() {
        run("synchronize", lane -> {
            for (CudaLane l : lanes.all()) {
                l.synchronize();
            }
        }, 0);
    }

    // ---- conv2d -------------------------------------------------------------------------

    @Override
    protected void conv2dForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams p) {
        run("conv2dForward", lane -> lane.conv.forward(ptr(y), ptr(x), ptr(w), b == null ? null : ptr(b),
                x.shape(), w.shape(), y.shape(), p), 1, y, x, w, b);
    }

    @Override
    protected void conv2dBackwardDataImpl(Tensor dx, Tensor dy, Tensor w, Conv2dParams p) {
        run("conv2dBackwardData", lane -> lane.conv.backwardData(ptr(dx), ptr(dy), ptr(w), dx.shape(), w.shape(),
                dy.shape(), p), 1, dx, dy, w);
    }

    @Override
    protected void conv2dBackwardFilterImpl(Tensor dw, Tensor x, Tensor dy, Conv2dParams p, boolean accumulate) {
        run("conv2dBackwardFilter", lane -> lane.conv.backwardFilter(ptr(dw), ptr(x), ptr(dy), x.shape(), dw.shape(),
                dy.shape(), p, accumulate), 1, dw, x, dy);
    }

    @Override
    protected void conv2dBackwardBiasImpl(Tensor db, Tensor dy, boolean accumulate) {
        run("conv2dBackwardBias", lane -> lane.cudnn.biasGradient(ptr(db), ptr(dy), dy.shape(), accumulate), 1, db, dy);
    }

    // ---- batch normalization ----------------------------------------------------------

    @Override
    protected void batchNormForwardTrainingImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        run("batchNormForwardTraining", lane -> lane.batchNorm.forwardTraining(ptr(y), ptr(x), x.shape(), ptr(gamma),
                ptr(beta), ptr(runningMean), ptr(runningVar), ptr(saveMean), ptr(saveInvStd), momentum, eps), 5,
                y, runningMean, runningVar, saveMean, saveInvStd, x, gamma, beta);
    }

    @Override
    protected void batchNormForwardInferenceImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, float eps) {
        run("batchNormForwardInference", lane -> lane.batchNorm.forwardInference(ptr(y), ptr(x), x.shape(), ptr(gamma),
                ptr(beta), ptr(runningMean), ptr(runningVar), eps), 1, y, x, gamma, beta, runningMean, runningVar);
    }

    @Override
    protected void batchNormBackwardImpl(Tensor dx, Tensor dGamma, Tensor dBeta, Tensor dy, Tensor x, Tensor gamma,
            Tensor saveMean, Tensor saveInvStd, float eps, boolean accumulate) {
        run("batchNormBackward", lane -> lane.batchNorm.backward(ptr(dx), ptr(dGamma), ptr(dBeta), ptr(dy), ptr(x),
                x.shape(), ptr(gamma), ptr(saveMean), ptr(saveInvStd), eps, accumulate), 3, dx, dGamma, dBeta, dy, x,
                gamma, saveMean, saveInvStd);
    }

    // ---- pooling ------------------------------------------------------------------------

    @Override
    protected void pool2dForwardImpl(PoolMode mode, Tensor y, Tensor x, Pool2dParams p) {
        run("pool2dForward(" + mode + ")", lane -> lane.pool.forward(mode, ptr(y), ptr(x), x.shape(), y.shape(), p), 1,
                y, x);
    }

    @Override
    protected void pool2dBackwardImpl(PoolMode mode, Tensor dx, Tensor dy, Tensor x, Tensor y, Pool2dParams p) {
        // Max: Receptive's kernel, which routes ties as the contract says (cuDNN's may not).
        run("pool2dBackward(" + mode + ")", lane -> {
            if (mode == PoolMode.MAX) {
                lane.kernels.maxPoolBackward(ptr(dx), ptr(dy), ptr(x), ptr(y), x.shape(), y.shape(), p);
            } else {
                lane.pool.averageBackward(ptr(dx), ptr(dy), ptr(x), ptr(y), x.shape(), y.shape(), p);
            }
        }, 1, dx, dy, x, y);
    }

    // ---- activations and softmax --------------------------------------------------------

    @Override
    protected void activationForwardImpl(Activation f, Tensor y, Tensor x) {
        run("activationForward(" + f + ")", lane -> lane.kernels.activationForward(f, ptr(y), ptr(x), x.size()), 1, y, x);
    }

    @Override
    protected void activationBackwardImpl(Activation f, Tensor dx, Tensor dy, Tensor y) {
        run("activationBackward(" + f + ")", lane -> lane.kernels.activationBackward(f, ptr(dx), ptr(dy), ptr(y),
                y.size()), 1, dx, dy, y);
    }

    @Override
    protected void softmaxForwardImpl(Tensor y, Tensor x, boolean log) {
        run(log ? "logSoftmaxForward" : "softmaxForward", lane -> lane.cudnn.softmaxForward(ptr(y), ptr(x), x.shape(),
                log), 1, y, x);
    }

    @Override
    protected void softmaxBackwardImpl(Tensor dx, Tensor dy, Tensor y) {
        run("softmaxBackward", lane -> lane.cudnn.softmaxBackward(ptr(dx), ptr(dy), ptr(y), y.shape()), 1, dx, dy, y);
    }

    // ---- dense --------------------------------------------------------------------------

    @Override
    protected void denseForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b) {
        Shape ws = w.shape();
        run("denseForward", lane -> lane.dense.forward(ptr(y), ptr(x), ptr(w), b == null ? null : ptr(b),
                x.shape().dim(0), ws.dim(1), ws.dim(0), y.shape()), 1, y, x, w, b);
    }

    @Override
    protected void denseBackwardImpl(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, boolean accumulate) {
        Shape ws = w.shape();
        run("denseBackward", lane -> lane.dense.backward(dx == null ? null : ptr(dx), ptr(dw),
                db == null ? null : ptr(db), ptr(dy), ptr(x), ptr(w), x.shape().dim(0), ws.dim(1), ws.dim(0), dy.shape(),
                accumulate), 3, dx, dw, db, dy, x, w);
    }

    // ---- losses -------------------------------------------------------------------------

    @Override
    protected void softmaxCrossEntropyImpl(Tensor loss, Tensor dz, Tensor z, Tensor labels) {
        Shape s = z.shape();
        run("softmaxCrossEntropy", lane -> lane.kernels.softmaxCrossEntropy(ptr(loss), dz == null ? null : ptr(dz),
                ptr(z), ptr(labels), s.dim(0), s.dim(1)), 2, loss, dz, z, labels);
    }

    @Override
    protected void meanSquaredErrorImpl(Tensor loss, Tensor dp, Tensor p, Tensor t) {
        run("meanSquaredError", lane -> lane.kernels.meanSquaredError(ptr(loss), dp == null ? null : ptr(dp), ptr(p),
                ptr(t), p.size()), 2, loss, dp, p, t);
    }

    @Override
    protected void hingeLossImpl(Tensor loss, Tensor dz, Tensor z, Tensor labels) {
        Shape s = z.shape();
        run("hingeLoss", lane -> lane.kernels.hingeLoss(ptr(loss), dz == null ? null : ptr(dz), ptr(z), ptr(labels),
                s.dim(0), s.dim(1)), 2, loss, dz, z, labels);
    }

    // ---- merges -------------------------------------------------------------------------

    @Override
    protected void concatForwardImpl(Tensor y, List<Tensor> xs) {
        Tensor[] all = new Tensor[xs.size() + 1];
        all[0] = y;
        for (int i = 0; i < xs.size(); i++) {
            all[i + 1] = xs.get(i);
        }
        run("concatForward", lane -> {
            long row = y.shape().sizePerItem() * 4L;
            long at = 0;
            for (Tensor x : xs) {
                long part = x.shape().sizePerItem() * 4L;
                copyRows(lane, ptr(y), at, row, ptr(x), 0, part, part, y.shape().dim(0));
                at += part;
            }
        }, 1, all);
    }

    @Override
    protected void concatBackwardImpl(List<Tensor> dxs, Tensor dy, int[] channels) {
        Tensor[] all = new Tensor[dxs.size() + 1];
        for (int i = 0; i < dxs.size(); i++) {
            all[i] = dxs.get(i);
        }
        all[dxs.size()] = dy;
        run("concatBackward", lane -> {
            long row = dy.shape().sizePerItem() * 4L;
            long inner = row / dy.shape().dim(1);
            long at = 0;
            for (int k = 0; k < channels.length; k++) {
                long part = channels[k] * inner;
                Tensor dx = dxs.get(k);
                if (dx != null) {
                    copyRows(lane, ptr(dx), 0, part, ptr(dy), at, row, part, dy.shape().dim(0));
                }
                at += part;
            }
        }, dxs.size(), all);
    }

    /** Copies {@code rows} rows of {@code width} bytes between pitched device buffers, on the stream. */
    private static void copyRows(CudaLane lane, CUdeviceptr dst, long dstX, long dstPitch, CUdeviceptr src, long srcX, long srcPitch,
            long width, int rows) {
        CUDA_MEMCPY2D copy = new CUDA_MEMCPY2D();
        copy.srcMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        copy.srcDevice = src;
        copy.srcXInBytes = srcX;
        copy.srcPitch = srcPitch;
        copy.dstMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        copy.dstDevice = dst;
        copy.dstXInBytes = dstX;
        copy.dstPitch = dstPitch;
        copy.WidthInBytes = width;
        copy.Height = rows;
        cuMemcpy2DAsync(copy, lane.stream);
    }

    // ---- dropout and optimizers ---------------------------------------------------------

    @Override
    protected void dropoutImpl(Tensor y, Tensor x, float p, long seed, int stream, int step, long offset) {
        run("dropout", lane -> lane.kernels.dropout(ptr(y), ptr(x), x.size(), p, seed, stream, step, offset), 1, y, x);
    }

    @Override
    protected void sgdUpdateImpl(Tensor w, Tensor dw, Tensor velocity, SgdParams params) {
        run("sgdUpdate", lane -> lane.kernels.sgdUpdate(ptr(w), ptr(dw), velocity == null ? null : ptr(velocity),
                w.size(), params), 2, w, velocity, dw);
    }

    @Override
    protected void adamUpdateImpl(Tensor w, Tensor dw, Tensor m, Tensor v, AdamParams params) {
        run("adamUpdate", lane -> lane.kernels.adamUpdate(ptr(w), ptr(dw), ptr(m), ptr(v), w.size(), params), 3,
                w, m, v, dw);
    }

    // ---- helpers ------------------------------------------------------------------------

    @Override
    protected void addImpl(Tensor y, Tensor a, Tensor b) {
        run("add", lane -> lane.kernels.add(ptr(y), ptr(a), ptr(b), y.size()), 1, y, a, b);
    }

    @Override
    protected void scaleImpl(Tensor y, Tensor x, float alpha) {
        run("scale", lane -> lane.kernels.scale(ptr(y), ptr(x), alpha, y.size()), 1, y, x);
    }

    @Override
    protected void axpyImpl(Tensor y, float alpha, Tensor x) {
        run("axpy", lane -> lane.kernels.axpy(ptr(y), alpha, ptr(x), y.size()), 1, y, x);
    }

    @Override
    protected void argmaxImpl(Tensor out, Tensor x) {
        Shape s = x.shape();
        run("argmax", lane -> lane.kernels.argmax(ptr(out), ptr(x), s.dim(0), s.sizePerItem()), 1, out, x);
    }

    @Override
    protected void sumImpl(Tensor out, Tensor x) {
        run("sum", lane -> lane.kernels.sum(ptr(out), ptr(x), x.size()), 1, out, x);
    }

    // ---- plumbing -----------------------------------------------------------------------

    private static CUdeviceptr ptr(Tensor t) {
        return ((CudaTensor) t).ptr();
    }

    /** One op's work, queued on a lane. */
    private interface Op {
        void queue(CudaLane lane);
    }

    /**
     * Runs one op on the calling thread's lane with this device's context current, turning a CUDA,
     * cuDNN or cuBLAS failure into a {@link GpuException} that names the op and its tensors' shapes.
     * The first {@code writes} tensors are written, the rest read (nulls skipped). Before the op,
     * the lane waits (on the GPU) for the other lanes that last wrote any of them; after it, the
     * written tensors name this lane and op as their writer.
     */
    private void run(String op, Op body, int writes, Tensor... tensors) {
        checkOpen(op);
        CudaLane lane = lanes.current();
        lane.lock.lock();
        try {
            device.makeCurrent();
            for (Tensor t : tensors) {
                if (t != null) {
                    CudaTensor c = (CudaTensor) t;
                    int writer = c.writer();
                    if (writer >= 0 && writer != lane.id && !lane.waitsFor(writer, c.writerOp())) {
                        lane.waitFor(laneById.get(writer));
                    }
                }
            }
            body.queue(lane);
            long number = lane.queuedOne();
            for (int i = 0; i < writes; i++) {
                if (tensors[i] != null) {
                    ((CudaTensor) tensors[i]).written(lane.id, number);
                }
            }
        } catch (CudaException e) {
            throw new GpuException(op, shapes(tensors), e.getMessage(), e);
        } finally {
            lane.lock.unlock();
        }
    }

    private void checkOpen(String op) {
        if (closed) {
            throw new IllegalStateException(op + ": the cuda backend is closed");
        }
    }

    private static String shapes(Tensor... tensors) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        for (Tensor t : tensors) {
            if (t != null) {
                j.add(t.shape().toString());
            }
        }
        return tensors.length == 0 ? "" : j.toString();
    }

    /** Waits for queued work, then releases every native resource in reverse order of creation. */
    @Override
    public void close() {
        synchronized (closing) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                device.makeCurrent();
            } finally {
                closeOwned();
            }
        }
    }

    private void closeOwned() {
        RuntimeException first = null;
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = new GpuException("cuda: closing the backend", "", e.getMessage(), e);
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
