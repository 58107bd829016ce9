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
import jcuda.CudaException;
import jcuda.driver.CUDA_MEMCPY2D;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUmemorytype;
import jcuda.jcudnn.JCudnn;

/**
 * The GPU backend: cuDNN for convolution, pooling and softmax, cuBLAS for dense layers, and
 * Receptive's own PTX kernels (native-kernels/) for everything else. Every op is queued on one
 * CUDA stream and returns without waiting; {@link #download} and {@link #synchronize} wait.
 *
 * <p>Differences from the CPU reference, all within the contract:
 * <ul>
 *   <li>Losses never throw for NaN input or a bad label, since checking would mean waiting for
 *       the device: the loss comes out NaN instead, seen when it is downloaded.</li>
 *   <li>Sums run in another order (cuDNN, cuBLAS, tree reductions): results agree with the CPU's
 *       to fp32 rounding, not bit for bit. Dropout masks and optimizer updates are bit-identical.</li>
 * </ul>
 *
 * <p>Thread-safe: each op takes the backend's lock while it makes the context current on the calling
 * thread and queues its work (a download also waits for it), so threads sharing one backend, such
 * as a model's predictor serving many requests, never interleave inside an op. The GPU runs the
 * queued work of all of them in order on the one stream.
 */
public final class CudaBackend extends AbstractBackend {
    private final CudaOptions options;
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private final CudaDevice device;
    private final DeviceAllocator memory;
    private final PinnedStaging staging;
    private final CudaKernels kernels;
    private final Cudnn cudnn;
    private final CudnnConv conv;
    private final CudnnPool pool;
    private final CudnnBatchNorm batchNorm;
    private final CublasDense dense;
    private final String description;
    private final BackendCapabilities capabilities;
    private final Object lock = new Object();
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
            memory = own(new DeviceAllocator(device));
            staging = own(new PinnedStaging(device.stream));
            kernels = own(new CudaKernels(device.stream));
            cudnn = own(new Cudnn(device.stream));
            conv = own(new CudnnConv(cudnn, device, options));
            pool = own(new CudnnPool(cudnn));
            batchNorm = new CudnnBatchNorm(cudnn);
            dense = own(new CublasDense(device.stream, cudnn, options.fastMath()));
            owned.push(device::synchronize); // closed first: nothing may still run when memory is freed
            String gpu = String.format("%s, sm_%d%d, %.1f GiB", device.name, device.ccMajor, device.ccMinor,
                    device.totalMemory / (double) (1L << 30));
            String libraries = "cuDNN " + CudaProbe.libraryVersion(JCudnn.cudnnGetVersion()) + ", cuBLAS "
                    + CudaProbe.libraryVersion(dense.version());
            description = "cuda (" + gpu + ", " + libraries + (options.deterministic() ? ", deterministic" : "")
                    + (options.fastMath() ? ", fast math" : "") + ")";
            // Host threads only queue work on the one stream: 0 threads compute. Every op but the cuDNN
            // convolutions is deterministic; those are when the option restricts their algorithms.
            capabilities = new BackendCapabilities("cuda", gpu, BackendCapabilities.Memory.DEVICE, 0,
                    options.deterministic(), libraries + (options.fastMath() ? ", TF32" : ""));
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
        run("freeMemory", () -> {
            cuMemGetInfo(free, new long[1]);
            free[0] += memory.cachedBytes();
        });
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
        return conv.workspaceBytes();
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
        synchronized (lock) {
            checkOpen("allocate");
            DeviceAllocator.Block b = null;
            try {
                device.makeCurrent();
                b = memory.allocate(shape.size() * 4L);
                cuMemsetD32Async(b.ptr(), 0, shape.size(), device.stream);
                return new CudaTensor(this, shape, b);
            } catch (CudaException e) {
                if (b != null) {
                    memory.free(b);
                }
                throw new GpuException("allocate", "[" + shape + "]", e.getMessage(), e);
            }
        }
    }

    /** Called by {@link CudaTensor#close}: the block goes back to the cache (stream order keeps it safe). */
    void release(CudaTensor t) {
        synchronized (lock) {
            memory.free(t.block());
        }
    }

    @Override
    protected void uploadImpl(Tensor dst, float[] data) {
        run("upload", () -> staging.upload(ptr(dst), data), dst);
    }

    @Override
    protected void downloadImpl(Tensor src, float[] dst) {
        run("download", () -> staging.download(dst, ptr(src)), src);
    }

    @Override
    protected void copyImpl(Tensor dst, Tensor src) {
        run("copy", () -> cuMemcpyDtoDAsync(ptr(dst), ptr(src), src.size() * 4L, device.stream), dst, src);
    }

    @Override
    protected void fillImpl(Tensor dst, float value) {
        run("fill", () -> cuMemsetD32Async(ptr(dst), Float.floatToRawIntBits(value), dst.size(), device.stream), dst);
    }

    @Override
    public void synchronize() {
        run("synchronize", device::synchronize);
    }

    // ---- conv2d -------------------------------------------------------------------------

    @Override
    protected void conv2dForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams p) {
        run("conv2dForward", () -> conv.forward(ptr(y), ptr(x), ptr(w), b == null ? null : ptr(b),
                x.shape(), w.shape(), y.shape(), p), y, x, w, b);
    }

    @Override
    protected void conv2dBackwardDataImpl(Tensor dx, Tensor dy, Tensor w, Conv2dParams p) {
        run("conv2dBackwardData", () -> conv.backwardData(ptr(dx), ptr(dy), ptr(w), dx.shape(), w.shape(), dy.shape(), p),
                dx, dy, w);
    }

    @Override
    protected void conv2dBackwardFilterImpl(Tensor dw, Tensor x, Tensor dy, Conv2dParams p, boolean accumulate) {
        run("conv2dBackwardFilter", () -> conv.backwardFilter(ptr(dw), ptr(x), ptr(dy), x.shape(), dw.shape(),
                dy.shape(), p, accumulate), dw, x, dy);
    }

    @Override
    protected void conv2dBackwardBiasImpl(Tensor db, Tensor dy, boolean accumulate) {
        run("conv2dBackwardBias", () -> cudnn.biasGradient(ptr(db), ptr(dy), dy.shape(), accumulate), db, dy);
    }

    // ---- batch normalization ----------------------------------------------------------

    @Override
    protected void batchNormForwardTrainingImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        run("batchNormForwardTraining", () -> batchNorm.forwardTraining(ptr(y), ptr(x), x.shape(), ptr(gamma), ptr(beta),
                ptr(runningMean), ptr(runningVar), ptr(saveMean), ptr(saveInvStd), momentum, eps), y, x);
    }

    @Override
    protected void batchNormForwardInferenceImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, float eps) {
        run("batchNormForwardInference", () -> batchNorm.forwardInference(ptr(y), ptr(x), x.shape(), ptr(gamma),
                ptr(beta), ptr(runningMean), ptr(runningVar), eps), y, x);
    }

    @Override
    protected void batchNormBackwardImpl(Tensor dx, Tensor dGamma, Tensor dBeta, Tensor dy, Tensor x, Tensor gamma,
            Tensor saveMean, Tensor saveInvStd, float eps, boolean accumulate) {
        run("batchNormBackward", () -> batchNorm.backward(ptr(dx), ptr(dGamma), ptr(dBeta), ptr(dy), ptr(x), x.shape(),
                ptr(gamma), ptr(saveMean), ptr(saveInvStd), eps, accumulate), dx, dy, x);
    }

    // ---- pooling ------------------------------------------------------------------------

    @Override
    protected void pool2dForwardImpl(PoolMode mode, Tensor y, Tensor x, Pool2dParams p) {
        run("pool2dForward(" + mode + ")", () -> pool.forward(mode, ptr(y), ptr(x), x.shape(), y.shape(), p), y, x);
    }

    @Override
    protected void pool2dBackwardImpl(PoolMode mode, Tensor dx, Tensor dy, Tensor x, Tensor y, Pool2dParams p) {
        // Max: Receptive's kernel, which routes ties as the contract says (cuDNN's may not).
        run("pool2dBackward(" + mode + ")", () -> {
            if (mode == PoolMode.MAX) {
                kernels.maxPoolBackward(ptr(dx), ptr(dy), ptr(x), ptr(y), x.shape(), y.shape(), p);
            } else {
                pool.averageBackward(ptr(dx), ptr(dy), ptr(x), ptr(y), x.shape(), y.shape(), p);
            }
        }, dx, dy, x, y);
    }

    // ---- activations and softmax --------------------------------------------------------

    @Override
    protected void activationForwardImpl(Activation f, Tensor y, Tensor x) {
        run("activationForward(" + f + ")", () -> kernels.activationForward(f, ptr(y), ptr(x), x.size()), y, x);
    }

    @Override
    protected void activationBackwardImpl(Activation f, Tensor dx, Tensor dy, Tensor y) {
        run("activationBackward(" + f + ")", () -> kernels.activationBackward(f, ptr(dx), ptr(dy), ptr(y), y.size()),
                dx, dy, y);
    }

    @Override
    protected void softmaxForwardImpl(Tensor y, Tensor x, boolean log) {
        run(log ? "logSoftmaxForward" : "softmaxForward", () -> cudnn.softmaxForward(ptr(y), ptr(x), x.shape(), log),
                y, x);
    }

    @Override
    protected void softmaxBackwardImpl(Tensor dx, Tensor dy, Tensor y) {
        run("softmaxBackward", () -> cudnn.softmaxBackward(ptr(dx), ptr(dy), ptr(y), y.shape()), dx, dy, y);
    }

    // ---- dense --------------------------------------------------------------------------

    @Override
    protected void denseForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b) {
        Shape ws = w.shape();
        run("denseForward", () -> dense.forward(ptr(y), ptr(x), ptr(w), b == null ? null : ptr(b), x.shape().dim(0),
                ws.dim(1), ws.dim(0), y.shape()), y, x, w, b);
    }

    @Override
    protected void denseBackwardImpl(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, boolean accumulate) {
        Shape ws = w.shape();
        run("denseBackward", () -> dense.backward(dx == null ? null : ptr(dx), ptr(dw), db == null ? null : ptr(db),
                ptr(dy), ptr(x), ptr(w), x.shape().dim(0), ws.dim(1), ws.dim(0), dy.shape(), accumulate),
                dx, dw, db, dy, x, w);
    }

    // ---- losses -------------------------------------------------------------------------

    @Override
    protected void softmaxCrossEntropyImpl(Tensor loss, Tensor dz, Tensor z, Tensor labels) {
        Shape s = z.shape();
        run("softmaxCrossEntropy", () -> kernels.softmaxCrossEntropy(ptr(loss), dz == null ? null : ptr(dz), ptr(z),
                ptr(labels), s.dim(0), s.dim(1)), loss, dz, z, labels);
    }

    @Override
    protected void meanSquaredErrorImpl(Tensor loss, Tensor dp, Tensor p, Tensor t) {
        run("meanSquaredError", () -> kernels.meanSquaredError(ptr(loss), dp == null ? null : ptr(dp), ptr(p), ptr(t),
                p.size()), loss, dp, p, t);
    }

    @Override
    protected void hingeLossImpl(Tensor loss, Tensor dz, Tensor z, Tensor labels) {
        Shape s = z.shape();
        run("hingeLoss", () -> kernels.hingeLoss(ptr(loss), dz == null ? null : ptr(dz), ptr(z), ptr(labels),
                s.dim(0), s.dim(1)), loss, dz, z, labels);
    }

    // ---- merges -------------------------------------------------------------------------

    @Override
    protected void concatForwardImpl(Tensor y, List<Tensor> xs) {
        Tensor[] all = new Tensor[xs.size() + 1];
        all[0] = y;
        for (int i = 0; i < xs.size(); i++) {
            all[i + 1] = xs.get(i);
        }
        run("concatForward", () -> {
            long row = y.shape().sizePerItem() * 4L;
            long at = 0;
            for (Tensor x : xs) {
                long part = x.shape().sizePerItem() * 4L;
                copyRows(ptr(y), at, row, ptr(x), 0, part, part, y.shape().dim(0));
                at += part;
            }
        }, all);
    }

    @Override
    protected void concatBackwardImpl(List<Tensor> dxs, Tensor dy, int[] channels) {
        run("concatBackward", () -> {
            long row = dy.shape().sizePerItem() * 4L;
            long inner = row / dy.shape().dim(1);
            long at = 0;
            for (int k = 0; k < channels.length; k++) {
                long part = channels[k] * inner;
                Tensor dx = dxs.get(k);
                if (dx != null) {
                    copyRows(ptr(dx), 0, part, ptr(dy), at, row, part, dy.shape().dim(0));
                }
                at += part;
            }
        }, dy);
    }

    /** Copies {@code rows} rows of {@code width} bytes between pitched device buffers, on the stream. */
    private void copyRows(CUdeviceptr dst, long dstX, long dstPitch, CUdeviceptr src, long srcX, long srcPitch,
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
        cuMemcpy2DAsync(copy, device.stream);
    }

    // ---- dropout and optimizers ---------------------------------------------------------

    @Override
    protected void dropoutImpl(Tensor y, Tensor x, float p, long seed, int stream, int step, long offset) {
        run("dropout", () -> kernels.dropout(ptr(y), ptr(x), x.size(), p, seed, stream, step, offset), y, x);
    }

    @Override
    protected void sgdUpdateImpl(Tensor w, Tensor dw, Tensor velocity, SgdParams params) {
        run("sgdUpdate", () -> kernels.sgdUpdate(ptr(w), ptr(dw), velocity == null ? null : ptr(velocity), w.size(),
                params), w, dw, velocity);
    }

    @Override
    protected void adamUpdateImpl(Tensor w, Tensor dw, Tensor m, Tensor v, AdamParams params) {
        run("adamUpdate", () -> kernels.adamUpdate(ptr(w), ptr(dw), ptr(m), ptr(v), w.size(), params), w, dw, m, v);
    }

    // ---- helpers ------------------------------------------------------------------------

    @Override
    protected void addImpl(Tensor y, Tensor a, Tensor b) {
        run("add", () -> kernels.add(ptr(y), ptr(a), ptr(b), y.size()), y, a, b);
    }

    @Override
    protected void scaleImpl(Tensor y, Tensor x, float alpha) {
        run("scale", () -> kernels.scale(ptr(y), ptr(x), alpha, y.size()), y, x);
    }

    @Override
    protected void axpyImpl(Tensor y, float alpha, Tensor x) {
        run("axpy", () -> kernels.axpy(ptr(y), alpha, ptr(x), y.size()), y, x);
    }

    @Override
    protected void argmaxImpl(Tensor out, Tensor x) {
        Shape s = x.shape();
        run("argmax", () -> kernels.argmax(ptr(out), ptr(x), s.dim(0), s.sizePerItem()), out, x);
    }

    @Override
    protected void sumImpl(Tensor out, Tensor x) {
        run("sum", () -> kernels.sum(ptr(out), ptr(x), x.size()), out, x);
    }

    // ---- plumbing -----------------------------------------------------------------------

    private static CUdeviceptr ptr(Tensor t) {
        return ((CudaTensor) t).ptr();
    }

    /**
     * Runs one op with this device's context current, turning a CUDA, cuDNN or cuBLAS failure
     * into a {@link GpuException} that names the op and its tensors' shapes.
     */
    private void run(String op, Runnable body, Tensor... tensors) {
        synchronized (lock) {
            checkOpen(op);
            try {
                device.makeCurrent();
                body.run();
            } catch (CudaException e) {
                throw new GpuException(op, shapes(tensors), e.getMessage(), e);
            }
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
        synchronized (lock) {
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
