package dev.receptive.backend.cuda;

import static dev.receptive.backend.cuda.Cudnn.ONE;
import static dev.receptive.backend.cuda.Cudnn.ZERO;
import static dev.receptive.backend.cuda.Cudnn.check;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static jcuda.jcudnn.JCudnn.cudnnConvolutionBackwardData;
import static jcuda.jcudnn.JCudnn.cudnnConvolutionBackwardFilter;
import static jcuda.jcudnn.JCudnn.cudnnConvolutionForward;
import static jcuda.jcudnn.JCudnn.cudnnCreateConvolutionDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnCreateFilterDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDestroyConvolutionDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDestroyFilterDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnFindConvolutionBackwardDataAlgorithmEx;
import static jcuda.jcudnn.JCudnn.cudnnFindConvolutionBackwardFilterAlgorithmEx;
import static jcuda.jcudnn.JCudnn.cudnnFindConvolutionForwardAlgorithmEx;
import static jcuda.jcudnn.JCudnn.cudnnGetConvolutionBackwardDataAlgorithmMaxCount;
import static jcuda.jcudnn.JCudnn.cudnnGetConvolutionBackwardDataWorkspaceSize;
import static jcuda.jcudnn.JCudnn.cudnnGetConvolutionBackwardFilterAlgorithmMaxCount;
import static jcuda.jcudnn.JCudnn.cudnnGetConvolutionBackwardFilterWorkspaceSize;
import static jcuda.jcudnn.JCudnn.cudnnGetConvolutionForwardAlgorithmMaxCount;
import static jcuda.jcudnn.JCudnn.cudnnGetConvolutionForwardWorkspaceSize;
import static jcuda.jcudnn.JCudnn.cudnnSetConvolution2dDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnSetConvolutionMathType;
import static jcuda.jcudnn.JCudnn.cudnnSetFilter4dDescriptor;

import dev.receptive.backend.Conv2dParams;
import dev.receptive.tensor.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import jcuda.jcudnn.cudnnConvolutionBwdDataAlgo;
import jcuda.jcudnn.cudnnConvolutionBwdDataAlgoPerf;
import jcuda.jcudnn.cudnnConvolutionBwdFilterAlgo;
import jcuda.jcudnn.cudnnConvolutionBwdFilterAlgoPerf;
import jcuda.jcudnn.cudnnConvolutionDescriptor;
import jcuda.jcudnn.cudnnConvolutionFwdAlgo;
import jcuda.jcudnn.cudnnConvolutionFwdAlgoPerf;
import jcuda.jcudnn.cudnnConvolutionMode;
import jcuda.jcudnn.cudnnDataType;
import jcuda.jcudnn.cudnnDeterminism;
import jcuda.jcudnn.cudnnFilterDescriptor;
import jcuda.jcudnn.cudnnMathType;
import jcuda.jcudnn.cudnnTensorDescriptor;
import jcuda.jcudnn.cudnnTensorFormat;

/**
 * cuDNN convolutions. Per geometry (input shape, filter shape, params) a plan holds the
 * descriptors, made once, and per direction the algorithm cuDNN's benchmark (Find…Ex) chose the
 * first time that direction ran: the fastest one that fits the workspace limit, is deterministic
 * when asked and, unless {@link CudaOptions#fastMath()}, sums products directly in fp32: no TF32
 * tensor cores, no FFT or Winograd transforms (their rounding errors grow with the transform, not
 * with the sum, and break parity with the CPU at near-zero outputs). One workspace, grown to the
 * largest chosen algorithm's need, serves all plans.
 */
final class CudnnConv implements AutoCloseable {
    private record Key(Shape x, Shape w, Conv2dParams p) {
    }

    /** One result of a Find call, whichever of cuDNN's three perf structs it came from. */
    private record Candidate(int algo, int status, long memory, int determinism, int mathType) {
    }

    private static final class Plan {
        final boolean bf16; // descriptors of bf16 data (fp32 compute), run on bf16 copies
        final cudnnTensorDescriptor x;
        final cudnnTensorDescriptor y;
        final cudnnFilterDescriptor w = new cudnnFilterDescriptor();
        final cudnnConvolutionDescriptor conv = new cudnnConvolutionDescriptor();
        boolean hasW;
        boolean hasConv;
        Candidate forward;
        Candidate backwardData;
        Candidate backwardFilter;

        Plan(boolean bf16, cudnnTensorDescriptor x, cudnnTensorDescriptor y) {
            this.bf16 = bf16;
            this.x = x;
            this.y = y;
        }

        void destroy() {
            if (hasConv) {
                cudnnDestroyConvolutionDescriptor(conv);
            }
            if (hasW) {
                cudnnDestroyFilterDescriptor(w);
            }
        }
    }

    /**
     * The algorithm chosen per geometry and direction, shared by every lane's CudnnConv: a geometry
     * runs the same algorithm on every stream, so a prediction gives the same bits on any thread
     * (Find's timings differ from call to call; two lanes choosing for themselves could differ).
     */
    static final class Choices {
        private final Map<List<Object>, Candidate> chosen = new ConcurrentHashMap<>();
        /** Geometries cuDNN cannot run in bf16: every lane runs them in TF32 instead, alike. */
        private final Set<Key> noBf16 = ConcurrentHashMap.newKeySet();
    }

    private static final System.Logger LOG = System.getLogger(CudnnConv.class.getName());

    private final Cudnn cudnn;
    private final CudaDevice device;
    private final CUstream stream;
    private final CudaOptions options;
    private final Choices choices;
    private final CudaKernels kernels;
    private final Map<Key, Plan> plans = new HashMap<>();
    private final CUdeviceptr[] bf16Buffers = new CUdeviceptr[3]; // x, w, y (or dx, w, dy / x, dw, dy)
    private final long[] bf16Bytes = new long[3];
    private CUdeviceptr workspace;
    private long workspaceBytes;

    CudnnConv(Cudnn cudnn, CudaDevice device, CUstream stream, CudaOptions options, Choices choices,
            CudaKernels kernels) {
        this.cudnn = cudnn;
        this.device = device;
        this.stream = stream;
        this.options = options;
        this.choices = choices;
        this.kernels = kernels;
    }

    // ---- bf16: the convolution on bf16 copies, fp32 in the tensors ----------------------

    /** Bf16 scratch buffer {@code slot}, at least {@code elements} long (grown, never shrunk). */
    private CUdeviceptr bf16(int slot, int elements) {
        long bytes = elements * 2L;
        if (bytes > bf16Bytes[slot]) {
            if (bf16Buffers[slot] != null) {
                synchronize(); // earlier convolutions of this lane may still read it
                device.free(bf16Buffers[slot]);
                bf16Buffers[slot] = null;
                bf16Bytes[slot] = 0;
            }
            bf16Buffers[slot] = device.allocate(Math.max(bytes, 512));
            bf16Bytes[slot] = Math.max(bytes, 512);
        }
        return bf16Buffers[slot];
    }

    private CUdeviceptr toBf16(int slot, CUdeviceptr x, int n) {
        CUdeviceptr b = bf16(slot, n);
        kernels.floatToBf16(b, x, n);
        return b;
    }

    /**
     * Runs {@code bf16Run} when this geometry runs in bf16; when cuDNN refuses it in bf16 (no
     * algorithm, an unsupported configuration), every lane runs the geometry in TF32 from then on
     * and {@code fp32Run} runs. Returns the plan the fp32 path must use (null when bf16 ran).
     */
    private Plan tryBf16(Key key, Plan plan, Runnable bf16Run) {
        if (!plan.bf16) {
            return plan;
        }
        try {
            bf16Run.run();
            return null;
        } catch (CudaException refused) {
            if (choices.noBf16.add(key)) {
                LOG.log(System.Logger.Level.WARNING, "cuda: convolution x=" + key.x() + " w=" + key.w() + " " + key.p()
                        + " runs in TF32: cuDNN cannot run it in bf16 (" + refused.getMessage() + ")");
            }
            return plan(key.x(), key.w(), null, key.p());
        }
    }

    /**
     * The shared choice for this geometry and direction, found by this lane if no lane has yet;
     * this lane's workspace grows to it either way. Two lanes meeting a new geometry at once may
     * both run Find; the first to finish wins and both use its choice.
     */
    private Candidate choice(Key key, String direction, java.util.function.Supplier<Candidate> find) {
        List<Object> id = List.of(key, direction);
        Candidate c = choices.chosen.get(id);
        if (c == null) {
            Candidate mine = find.get();
            c = choices.chosen.putIfAbsent(id, mine);
            if (c == null) {
                c = mine;
            }
        }
        growWorkspace(c.memory());
        return c;
    }

    private void synchronize() {
        cuStreamSynchronize(stream);
    }

    long workspaceBytes() {
        return workspaceBytes;
    }

    // y = conv(x, w) (+ b). x: (N, C, H, W); w: (K, C, R, S); b: (K) or null; y: (N, K, P, Q)
    void forward(CUdeviceptr y, CUdeviceptr x, CUdeviceptr w, CUdeviceptr b, Shape xs, Shape ws, Shape ys, Conv2dParams p) {
        Key key = new Key(xs, ws, p);
        Plan bf = plan(xs, ws, ys, p);
        Plan plan = tryBf16(key, bf, () -> {
            CUdeviceptr bx = toBf16(0, x, xs.size());
            CUdeviceptr bw = toBf16(1, w, ws.size());
            CUdeviceptr by = bf16(2, ys.size());
            if (bf.forward == null) {
                bf.forward = choice(key, "bf16 forward", () -> findForward(bf, bx, bw, by));
            }
            useMath(bf, bf.forward);
            check(cudnnConvolutionForward(cudnn.handle, ONE, bf.x, bx, bf.w, bw, bf.conv, bf.forward.algo(), workspace,
                    workspaceBytes, ZERO, bf.y, by), "cudnnConvolutionForward");
            kernels.bf16ToFloat(y, by, ys.size(), false);
        });
        if (plan == null) {
            if (b != null) {
                cudnn.addBias(y, ys, b);
            }
            return;
        }
        if (plan.forward == null) {
            plan.forward = choice(key, "forward", () -> findForward(plan, x, w, y));
        }
        useMath(plan, plan.forward);
        check(cudnnConvolutionForward(cudnn.handle, ONE, plan.x, x, plan.w, w, plan.conv, plan.forward.algo(),
                workspace, workspaceBytes, ZERO, plan.y, y), "cudnnConvolutionForward");
        if (b != null) {
            cudnn.addBias(y, ys, b);
        }
    }

    // dx from dy. dx: (N, C, H, W); dy: (N, K, P, Q); w: (K, C, R, S)
    void backwardData(CUdeviceptr dx, CUdeviceptr dy, CUdeviceptr w, Shape xs, Shape ws, Shape ys, Conv2dParams p) {
        Key key = new Key(xs, ws, p);
        Plan bf = plan(xs, ws, ys, p);
        Plan plan = tryBf16(key, bf, () -> {
            CUdeviceptr bdy = toBf16(2, dy, ys.size());
            CUdeviceptr bw = toBf16(1, w, ws.size());
            CUdeviceptr bdx = bf16(0, xs.size());
            if (bf.backwardData == null) {
                bf.backwardData = choice(key, "bf16 backwardData", () -> findBackwardData(bf, bdx, bdy, bw));
            }
            useMath(bf, bf.backwardData);
            check(cudnnConvolutionBackwardData(cudnn.handle, ONE, bf.w, bw, bf.y, bdy, bf.conv, bf.backwardData.algo(),
                    workspace, workspaceBytes, ZERO, bf.x, bdx), "cudnnConvolutionBackwardData");
            kernels.bf16ToFloat(dx, bdx, xs.size(), false);
        });
        if (plan == null) {
            return;
        }
        if (plan.backwardData == null) {
            plan.backwardData = choice(key, "backwardData", () -> findBackwardData(plan, dx, dy, w));
        }
        useMath(plan, plan.backwardData);
        check(cudnnConvolutionBackwardData(cudnn.handle, ONE, plan.w, w, plan.y, dy, plan.conv,
                plan.backwardData.algo(), workspace, workspaceBytes, ZERO, plan.x, dx), "cudnnConvolutionBackwardData");
    }

    // dw from x and dy. dw: (K, C, R, S); x: (N, C, H, W); dy: (N, K, P, Q)
    // dw += … when accumulating (cuDNN's beta = 1)
    void backwardFilter(CUdeviceptr dw, CUdeviceptr x, CUdeviceptr dy, Shape xs, Shape ws, Shape ys, Conv2dParams p,
            boolean accumulate) {
        Key key = new Key(xs, ws, p);
        Plan bf = plan(xs, ws, ys, p);
        Plan plan = tryBf16(key, bf, () -> {
            CUdeviceptr bx = toBf16(0, x, xs.size());
            CUdeviceptr bdy = toBf16(2, dy, ys.size());
            CUdeviceptr bdw = bf16(1, ws.size()); // Find's trials land here too, never in dw
            if (bf.backwardFilter == null) {
                bf.backwardFilter = choice(key, "bf16 backwardFilter", () -> findBackwardFilter(bf, bdw, bx, bdy));
            }
            useMath(bf, bf.backwardFilter);
            check(cudnnConvolutionBackwardFilter(cudnn.handle, ONE, bf.x, bx, bf.y, bdy, bf.conv,
                    bf.backwardFilter.algo(), workspace, workspaceBytes, ZERO, bf.w, bdw),
                    "cudnnConvolutionBackwardFilter");
            kernels.bf16ToFloat(dw, bdw, ws.size(), accumulate);
        });
        if (plan == null) {
            return;
        }
        if (plan.backwardFilter == null) {
            plan.backwardFilter = choice(key, "backwardFilter", () -> {
                // Find writes its trial results into the output: never into a gradient being accumulated.
                CUdeviceptr trial = device.allocate((long) ws.size() * Float.BYTES);
                try {
                    return findBackwardFilter(plan, trial, x, dy);
                } finally {
                    synchronize();
                    device.free(trial);
                }
            });
        }
        useMath(plan, plan.backwardFilter);
        check(cudnnConvolutionBackwardFilter(cudnn.handle, ONE, plan.x, x, plan.y, dy, plan.conv,
                plan.backwardFilter.algo(), workspace, workspaceBytes, accumulate ? ONE : ZERO, plan.w, dw),
                "cudnnConvolutionBackwardFilter");
    }

    /**
     * The plan of a geometry on this lane: bf16 descriptors with bf16 precision unless cuDNN
     * refused the geometry in bf16 (then, and otherwise, fp32 ones). {@code ys} may be null when
     * the plan exists or is made again (its shape follows from the rest).
     */
    private Plan plan(Shape xs, Shape ws, Shape ys, Conv2dParams p) {
        Key key = new Key(xs, ws, p);
        boolean bf16 = options.precision() == CudaOptions.Precision.BF16 && !choices.noBf16.contains(key);
        Plan plan = plans.get(key);
        if (plan != null && plan.bf16 == bf16) {
            return plan;
        }
        if (plan != null) {
            plans.remove(key);
            plan.destroy();
        }
        if (ys == null) {
            ys = Shape.of(xs.dim(0), ws.dim(0),
                    Conv2dParams.outputSize(xs.dim(2), ws.dim(2), p.strideH(), p.padH(), p.dilationH()),
                    Conv2dParams.outputSize(xs.dim(3), ws.dim(3), p.strideW(), p.padW(), p.dilationW()));
        }
        int type = bf16 ? cudnnDataType.CUDNN_DATA_BFLOAT16 : cudnnDataType.CUDNN_DATA_FLOAT;
        plan = new Plan(bf16, cudnn.tensor(xs.dim(0), xs.dim(1), xs.dim(2), xs.dim(3), type),
                cudnn.tensor(ys.dim(0), ys.dim(1), ys.dim(2), ys.dim(3), type));
        try {
            check(cudnnCreateFilterDescriptor(plan.w), "cudnnCreateFilterDescriptor");
            plan.hasW = true;
            check(cudnnSetFilter4dDescriptor(plan.w, type, cudnnTensorFormat.CUDNN_TENSOR_NCHW,
                    ws.dim(0), ws.dim(1), ws.dim(2), ws.dim(3)), "cudnnSetFilter4dDescriptor");
            check(cudnnCreateConvolutionDescriptor(plan.conv), "cudnnCreateConvolutionDescriptor");
            plan.hasConv = true;
            check(cudnnSetConvolution2dDescriptor(plan.conv, p.padH(), p.padW(), p.strideH(), p.strideW(),
                    p.dilationH(), p.dilationW(), cudnnConvolutionMode.CUDNN_CROSS_CORRELATION,
                    cudnnDataType.CUDNN_DATA_FLOAT), "cudnnSetConvolution2dDescriptor");
            // FMA_MATH: plain fp32 FMA kernels. The default would allow TF32 tensor cores on Ampere+.
            check(cudnnSetConvolutionMathType(plan.conv, parityMath()), "cudnnSetConvolutionMathType");
        } catch (RuntimeException e) {
            plan.destroy();
            throw e;
        }
        plans.put(key, plan);
        return plan;
    }

    /** FMA_MATH for fp32 parity; DEFAULT_MATH (TF32 allowed on Ampere+) with tf32, bf16 or fast math. */
    private int parityMath() {
        return options.tensorCores() ? cudnnMathType.CUDNN_DEFAULT_MATH : cudnnMathType.CUDNN_FMA_MATH;
    }

    /**
     * With fast math, run each algorithm in the math mode it was benchmarked in (TF32 included).
     * JCudnn's 12.6.0 native copies mathType back only into backward-filter results: forward and
     * backward-data candidates read 0, CUDNN_DEFAULT_MATH, which allows TF32 too.
     */
    private void useMath(Plan plan, Candidate algo) {
        if (options.tensorCores()) {
            check(cudnnSetConvolutionMathType(plan.conv, algo.mathType()), "cudnnSetConvolutionMathType");
        }
    }

    // ---- algorithm search: once per plan and direction ----------------------------------

    private Candidate findForward(Plan plan, CUdeviceptr x, CUdeviceptr w, CUdeviceptr y) {
        int[] max = new int[1];
        check(cudnnGetConvolutionForwardAlgorithmMaxCount(cudnn.handle, max), "cudnnGetConvolutionForwardAlgorithmMaxCount");
        cudnnConvolutionFwdAlgoPerf[] perf = new cudnnConvolutionFwdAlgoPerf[max[0]];
        for (int i = 0; i < perf.length; i++) {
            perf[i] = new cudnnConvolutionFwdAlgoPerf();
        }
        int[] returned = new int[1];
        try (Scratch s = scratch()) {
            find("cudnnFindConvolutionForwardAlgorithmEx", () -> cudnnFindConvolutionForwardAlgorithmEx(cudnn.handle,
                    plan.x, x, plan.w, w, plan.conv, plan.y, y, perf.length, returned, perf, s.ptr, s.bytes),
                    "cudnnGetConvolutionForwardWorkspaceSize", () -> cudnnGetConvolutionForwardWorkspaceSize(
                    cudnn.handle, plan.x, plan.w, plan.conv, plan.y, 0, new long[1]));
        }
        List<Candidate> c = new ArrayList<>();
        for (int i = 0; i < Math.min(returned[0], perf.length); i++) {
            c.add(new Candidate(perf[i].algo, perf[i].status, perf[i].memory, perf[i].determinism, perf[i].mathType));
        }
        return choose(c, "forward", Set.of(cudnnConvolutionFwdAlgo.CUDNN_CONVOLUTION_FWD_ALGO_FFT,
                cudnnConvolutionFwdAlgo.CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING,
                cudnnConvolutionFwdAlgo.CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD,
                cudnnConvolutionFwdAlgo.CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED));
    }

    private Candidate findBackwardData(Plan plan, CUdeviceptr dx, CUdeviceptr dy, CUdeviceptr w) {
        int[] max = new int[1];
        check(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(cudnn.handle, max),
                "cudnnGetConvolutionBackwardDataAlgorithmMaxCount");
        cudnnConvolutionBwdDataAlgoPerf[] perf = new cudnnConvolutionBwdDataAlgoPerf[max[0]];
        for (int i = 0; i < perf.length; i++) {
            perf[i] = new cudnnConvolutionBwdDataAlgoPerf();
        }
        int[] returned = new int[1];
        try (Scratch s = scratch()) {
            find("cudnnFindConvolutionBackwardDataAlgorithmEx", () -> cudnnFindConvolutionBackwardDataAlgorithmEx(
                    cudnn.handle, plan.w, w, plan.y, dy, plan.conv, plan.x, dx, perf.length, returned, perf, s.ptr,
                    s.bytes), "cudnnGetConvolutionBackwardDataWorkspaceSize",
                    () -> cudnnGetConvolutionBackwardDataWorkspaceSize(cudnn.handle, plan.w, plan.y, plan.conv, plan.x, 0,
                            new long[1]));
        }
        List<Candidate> c = new ArrayList<>();
        for (int i = 0; i < Math.min(returned[0], perf.length); i++) {
            c.add(new Candidate(perf[i].algo, perf[i].status, perf[i].memory, perf[i].determinism, perf[i].mathType));
        }
        return choose(c, "backward-data", Set.of(cudnnConvolutionBwdDataAlgo.CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT,
                cudnnConvolutionBwdDataAlgo.CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING,
                cudnnConvolutionBwdDataAlgo.CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD,
                cudnnConvolutionBwdDataAlgo.CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED));
    }

    private Candidate findBackwardFilter(Plan plan, CUdeviceptr dw, CUdeviceptr x, CUdeviceptr dy) {
        int[] max = new int[1];
        check(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(cudnn.handle, max),
                "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount");
        cudnnConvolutionBwdFilterAlgoPerf[] perf = new cudnnConvolutionBwdFilterAlgoPerf[max[0]];
        for (int i = 0; i < perf.length; i++) {
            perf[i] = new cudnnConvolutionBwdFilterAlgoPerf();
        }
        int[] returned = new int[1];
        try (Scratch s = scratch()) {
            find("cudnnFindConvolutionBackwardFilterAlgorithmEx", () -> cudnnFindConvolutionBackwardFilterAlgorithmEx(
                    cudnn.handle, plan.x, x, plan.y, dy, plan.conv, plan.w, dw, perf.length, returned, perf, s.ptr,
                    s.bytes), "cudnnGetConvolutionBackwardFilterWorkspaceSize",
                    () -> cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnn.handle, plan.x, plan.y, plan.conv, plan.w,
                            0, new long[1]));
        }
        List<Candidate> c = new ArrayList<>();
        for (int i = 0; i < Math.min(returned[0], perf.length); i++) {
            c.add(new Candidate(perf[i].algo, perf[i].status, perf[i].memory, perf[i].determinism, perf[i].mathType));
        }
        return choose(c, "backward-filter", Set.of(cudnnConvolutionBwdFilterAlgo.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT,
                cudnnConvolutionBwdFilterAlgo.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING,
                cudnnConvolutionBwdFilterAlgo.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD,
                cudnnConvolutionBwdFilterAlgo.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED));
    }

    /**
     * Runs a cudnnFind…AlgorithmEx call and checks its status. JCudnn's wrapper copies back as many
     * results as the count cuDNN returned, and cuDNN leaves that count unwritten when it fails: the
     * wrapper then reads an uninitialised int and, when it exceeds the array, throws
     * ArrayIndexOutOfBoundsException ("insufficient size") and cuDNN's status is lost. It is then
     * recovered as well as it can be: {@code diagnose} asks cuDNN about the same descriptors (the
     * workspace size of algorithm 0), which fails with the status a bad geometry or setup would give.
     */
    static void find(String call, IntSupplier find, String diagnosis, IntSupplier diagnose) {
        int status;
        try {
            status = find.getAsInt();
        } catch (IndexOutOfBoundsException lost) {
            int again;
            try {
                again = diagnose.getAsInt();
            } catch (RuntimeException e) {
                lost.addSuppressed(e);
                again = -1;
            }
            throw new CudaException("cuDNN " + call + " failed; JCudnn lost its status (" + lost
                    + "), and " + diagnosis + " on the same descriptors " + (again == CudnnStatus.SUCCESS
                    ? "succeeds, so the failure came from running the candidate algorithms (out of device memory, or a"
                            + " cuDNN sub-library that did not load: cuDNN logs why with CUDNN_LOGLEVEL_DBG=1)"
                    : "returns " + CudnnStatus.describe(again)), lost);
        }
        check(status, call);
    }

    /**
     * The fastest acceptable candidate (Find returns them fastest first); grows the workspace for
     * it. {@code transforms} are the direction's FFT and Winograd algorithms.
     */
    private Candidate choose(List<Candidate> found, String direction, Set<Integer> transforms) {
        for (Candidate c : found) {
            // The mathType test only bites for backward filter (see useMath); without fast math the
            // descriptor's FMA_MATH is what keeps every direction off tensor cores.
            // ALLOW_CONVERSION (fp16 down-conversion) is never wanted: fp16's range is not fp32's.
            boolean tensorOp = c.mathType() == cudnnMathType.CUDNN_TENSOR_OP_MATH;
            boolean ok = c.status() == CudnnStatus.SUCCESS
                    && c.memory() <= options.workspaceLimitBytes()
                    && (!options.deterministic() || c.determinism() == cudnnDeterminism.CUDNN_DETERMINISTIC)
                    && (options.fastMath() || !transforms.contains(c.algo()))
                    && (options.fastMath() || c.mathType() != cudnnMathType.CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
                    && (options.tensorCores() || !tensorOp);
            if (ok) {
                growWorkspace(c.memory());
                return c;
            }
        }
        throw new CudaException("cuDNN offers no " + direction + " convolution algorithm that"
                + (options.deterministic() ? " is deterministic," : "") + (options.fastMath() ? "" : " sums in plain fp32,")
                + " and needs at most " + options.workspaceLimitBytes() + " bytes of workspace (" + found.size()
                + " candidates tried); raise the workspace limit"
                + (options.deterministic() ? ", drop the deterministic option" : "")
                + (options.fastMath() ? "" : " or allow fast math"));
    }

    private void growWorkspace(long bytes) {
        if (bytes <= workspaceBytes) {
            return;
        }
        if (workspace != null) {
            synchronize(); // earlier convolutions of this lane may still be using the old workspace
            device.free(workspace);
            workspace = null;
            workspaceBytes = 0;
        }
        workspace = device.allocate(bytes);
        workspaceBytes = bytes;
    }

    /** Scratch memory for a Find call: the workspace limit, or half the free memory if less. */
    private Scratch scratch() {
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        long bytes = Math.min(options.workspaceLimitBytes(), free[0] / 2);
        return new Scratch(bytes > 0 ? device.allocate(bytes) : null, bytes);
    }

    private final class Scratch implements AutoCloseable {
        final CUdeviceptr ptr;
        final long bytes;

        Scratch(CUdeviceptr ptr, long bytes) {
            this.ptr = ptr;
            this.bytes = bytes;
        }

        @Override
        public void close() {
            if (ptr != null) {
                synchronize(); // Find's benchmarks ran on the stream
                device.free(ptr);
            }
        }
    }

    @Override
    public void close() {
        for (Plan plan : plans.values()) {
            plan.destroy();
        }
        plans.clear();
        for (int k = 0; k < bf16Buffers.length; k++) {
            if (bf16Buffers[k] != null) {
                device.free(bf16Buffers[k]);
                bf16Buffers[k] = null;
            }
        }
        if (workspace != null) {
            device.free(workspace);
            workspace = null;
            workspaceBytes = 0;
        }
    }
}
