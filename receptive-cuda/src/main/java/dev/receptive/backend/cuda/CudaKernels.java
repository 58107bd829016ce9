package dev.receptive.backend.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import dev.receptive.backend.Activation;
import dev.receptive.backend.AdamParams;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.SgdParams;
import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;

/**
 * Receptive's own kernels (native-kernels/*.cu), loaded from the PTX on the classpath and
 * JIT-compiled by the driver for the GPU at hand. One typed method per kernel packs its arguments
 * in the order of the kernel's signature; all launches go to the backend's stream.
 */
final class CudaKernels implements AutoCloseable {
    private static final int THREADS = 256; // block size every kernel's header assumes
    private static final CUdeviceptr NULL = new CUdeviceptr();

    private final CUstream stream;
    private final List<CUmodule> modules; // empty in a view: only the loading instance unloads

    private final CUfunction add;
    private final CUfunction scale;
    private final CUfunction axpy;
    private final CUfunction argmax;
    private final CUfunction sum;
    private final CUfunction activationForward;
    private final CUfunction activationBackward;
    private final CUfunction softmaxCrossEntropy;
    private final CUfunction meanSquaredError;
    private final CUfunction hingeLoss;
    private final CUfunction dropout;
    private final CUfunction sgdUpdate;
    private final CUfunction adamUpdate;
    private final CUfunction maxPoolBackward;
    private final CUfunction floatToBf16;
    private final CUfunction bf16ToFloat;

    CudaKernels(CUstream stream) {
        this.stream = stream;
        this.modules = new ArrayList<>();
        try {
            add = load("add");
            scale = load("scale");
            axpy = load("axpy");
            argmax = load("argmax");
            sum = load("sum");
            activationForward = load("activation_forward");
            activationBackward = load("activation_backward");
            softmaxCrossEntropy = load("softmax_cross_entropy");
            meanSquaredError = load("mean_squared_error");
            hingeLoss = load("hinge_loss");
            dropout = load("dropout");
            sgdUpdate = load("sgd_update");
            adamUpdate = load("adam_update");
            maxPoolBackward = load("maxpool_backward");
            floatToBf16 = load("float_to_bf16");
            bf16ToFloat = load("bf16_to_float");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The same kernels launched on another stream (another lane's); closing the view unloads nothing. */
    private CudaKernels(CudaKernels loaded, CUstream stream) {
        this.stream = stream;
        this.modules = new ArrayList<>();
        add = loaded.add;
        scale = loaded.scale;
        axpy = loaded.axpy;
        argmax = loaded.argmax;
        sum = loaded.sum;
        activationForward = loaded.activationForward;
        activationBackward = loaded.activationBackward;
        softmaxCrossEntropy = loaded.softmaxCrossEntropy;
        meanSquaredError = loaded.meanSquaredError;
        hingeLoss = loaded.hingeLoss;
        dropout = loaded.dropout;
        sgdUpdate = loaded.sgdUpdate;
        adamUpdate = loaded.adamUpdate;
        maxPoolBackward = loaded.maxPoolBackward;
        floatToBf16 = loaded.floatToBf16;
        bf16ToFloat = loaded.bf16ToFloat;
    }

    /** These kernels (loaded once per context) launched on {@code other}. */
    CudaKernels on(CUstream other) {
        return new CudaKernels(this, other);
    }

    /** Reads NAME.ptx from the classpath and JIT-compiles it; the kernel is named like its file. */
    private CUfunction load(String name) {
        byte[] ptx;
        try (InputStream in = CudaKernels.class.getResourceAsStream(name + ".ptx")) {
            if (in == null) {
                throw new IllegalStateException("cuda: kernel " + name + ".ptx is missing from the classpath");
            }
            byte[] text = in.readAllBytes();
            ptx = Arrays.copyOf(text, text.length + 1); // cuModuleLoadData reads PTX as a C string
        } catch (IOException e) {
            throw new UncheckedIOException("cuda: cannot read kernel " + name + ".ptx", e);
        }
        CUmodule module = new CUmodule();
        cuModuleLoadData(module, ptx);
        modules.add(module);
        CUfunction f = new CUfunction();
        cuModuleGetFunction(f, module, name);
        return f;
    }

    // ---- launches, one per kernel; n counts elements unless named otherwise -------------

    void add(CUdeviceptr y, CUdeviceptr a, CUdeviceptr b, int n) {
        launch(add, blocks(n), ptr(y), ptr(a), ptr(b), i(n));
    }

    void scale(CUdeviceptr y, CUdeviceptr x, float alpha, int n) {
        launch(scale, blocks(n), ptr(y), ptr(x), f(alpha), i(n));
    }

    void axpy(CUdeviceptr y, float alpha, CUdeviceptr x, int n) {
        launch(axpy, blocks(n), ptr(y), f(alpha), ptr(x), i(n));
    }

    // x: (rows, cols); out: (rows)
    void argmax(CUdeviceptr out, CUdeviceptr x, int rows, int cols) {
        launch(argmax, blocks(rows), ptr(out), ptr(x), i(rows), i(cols));
    }

    // out: (1)
    void sum(CUdeviceptr out, CUdeviceptr x, int n) {
        launch(sum, 1, ptr(out), ptr(x), i(n));
    }

    void activationForward(Activation fn, CUdeviceptr y, CUdeviceptr x, int n) {
        launch(activationForward, blocks(n), ptr(y), ptr(x), i(n), i(mode(fn)));
    }

    void activationBackward(Activation fn, CUdeviceptr dx, CUdeviceptr dy, CUdeviceptr y, int n) {
        launch(activationBackward, blocks(n), ptr(dx), ptr(dy), ptr(y), i(n), i(mode(fn)));
    }

    /** The mode numbers of activation_forward.cu and activation_backward.cu. */
    private static int mode(Activation fn) {
        return switch (fn) {
            case RELU -> 0;
            case TANH -> 1;
            case SIGMOID -> 2;
        };
    }

    // loss: (1); dz (may be null), z: (n, classes); labels: (n)
    void softmaxCrossEntropy(CUdeviceptr loss, CUdeviceptr dz, CUdeviceptr z, CUdeviceptr labels, int n, int classes) {
        launch(softmaxCrossEntropy, 1, ptr(loss), ptr(dz), ptr(z), ptr(labels), i(n), i(classes));
    }

    // loss: (1); dp (may be null), p, t: n elements
    void meanSquaredError(CUdeviceptr loss, CUdeviceptr dp, CUdeviceptr p, CUdeviceptr t, int n) {
        launch(meanSquaredError, 1, ptr(loss), ptr(dp), ptr(p), ptr(t), i(n));
    }

    // loss: (1); dz (may be null), z: (n, classes); labels: (n)
    void hingeLoss(CUdeviceptr loss, CUdeviceptr dz, CUdeviceptr z, CUdeviceptr labels, int n, int classes) {
        launch(hingeLoss, 1, ptr(loss), ptr(dz), ptr(z), ptr(labels), i(n), i(classes));
    }

    // y[i] keeps x[i] by the Philox number of element offset + i
    void dropout(CUdeviceptr y, CUdeviceptr x, int n, float p, long seed, int rngStream, int step, long offset) {
        if (n == 0) {
            return;
        }
        float keepScale = 1f / (1f - p); // float32, once, as docs/design.md prescribes
        long firstBlock = offset >>> 2;
        int groups = (int) (((offset + n - 1) >>> 2) - firstBlock + 1); // one Philox block per 4 elements
        launch(dropout, blocks(groups), ptr(y), ptr(x), i(n), f(p), f(keepScale),
                i((int) seed), i((int) (seed >>> 32)), i(rngStream), i(step), l(offset));
    }

    // dx, x: (N, C, H, W); dy, y: (N, C, P, Q); dy of each window to the first input equal to its maximum
    void maxPoolBackward(CUdeviceptr dx, CUdeviceptr dy, CUdeviceptr x, CUdeviceptr y, Shape xs, Shape ys, Pool2dParams p) {
        int planes = xs.dim(0) * xs.dim(1);
        launch(maxPoolBackward, blocks(xs.size()), ptr(dx), ptr(dy), ptr(x), ptr(y), i(planes), i(xs.dim(2)),
                i(xs.dim(3)), i(ys.dim(2)), i(ys.dim(3)), i(p.windowH()), i(p.windowW()), i(p.strideH()), i(p.strideW()),
                i(p.padH()), i(p.padW()));
    }

    // y: n bf16 values (2 bytes each) = x: n floats, rounded to nearest even
    void floatToBf16(CUdeviceptr y, CUdeviceptr x, int n) {
        launch(floatToBf16, blocks(n), ptr(y), ptr(x), i(n));
    }

    // y: n floats = (or += when accumulating) x: n bf16 values
    void bf16ToFloat(CUdeviceptr y, CUdeviceptr x, int n, boolean accumulate) {
        launch(bf16ToFloat, blocks(n), ptr(y), ptr(x), i(n), i(accumulate ? 1 : 0));
    }

    void sgdUpdate(CUdeviceptr w, CUdeviceptr dw, CUdeviceptr velocity, int n, SgdParams s) {
        launch(sgdUpdate, blocks(n), ptr(w), ptr(dw), ptr(velocity), i(n),
                f(s.lr()), f(s.momentum()), f(s.weightDecay()), i(s.nesterov() ? 1 : 0));
    }

    /** The step's scalars are folded here exactly as CpuOptimizers.adam folds them, for bit parity. */
    void adamUpdate(CUdeviceptr w, CUdeviceptr dw, CUdeviceptr m, CUdeviceptr v, int n, AdamParams a) {
        float l2 = a.decoupled() ? 0f : a.weightDecay();
        float decay = a.decoupled() ? 1f - a.lr() * a.weightDecay() : 1f;
        float stepSize = a.lr() / a.biasCorrection1();
        float bc2Sqrt = (float) Math.sqrt(a.biasCorrection2());
        launch(adamUpdate, blocks(n), ptr(w), ptr(dw), ptr(m), ptr(v), i(n), f(l2), f(decay), f(1f - a.beta1()),
                f(a.beta2()), f(1f - a.beta2()), f(stepSize), f(bc2Sqrt), f(a.eps()));
    }

    // ---- plumbing -----------------------------------------------------------------------

    private static int blocks(int n) {
        return (int) ((n + (long) THREADS - 1) / THREADS);
    }

    private void launch(CUfunction fn, int blocks, NativePointerObject... args) {
        cuLaunchKernel(fn, blocks, 1, 1, THREADS, 1, 1, 0, stream, Pointer.to(args), null);
    }

    private static Pointer ptr(CUdeviceptr p) {
        return Pointer.to(p == null ? NULL : p);
    }

    private static Pointer i(int v) {
        return Pointer.to(new int[] {v});
    }

    private static Pointer l(long v) {
        return Pointer.to(new long[] {v});
    }

    private static Pointer f(float v) {
        return Pointer.to(new float[] {v});
    }

    @Override
    public void close() {
        for (int k = modules.size() - 1; k >= 0; k--) {
            cuModuleUnload(modules.get(k));
        }
        modules.clear();
    }
}
