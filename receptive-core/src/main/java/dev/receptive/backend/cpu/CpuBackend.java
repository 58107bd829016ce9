package dev.receptive.backend.cpu;

import java.util.List;

import dev.receptive.backend.AbstractBackend;
import dev.receptive.backend.Activation;
import dev.receptive.backend.AdamParams;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.backend.SgdParams;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.Arrays;
import java.util.Optional;

/**
 * The pure-Java backend: the reference every other backend is checked against, and fast enough
 * to train on a laptop. Each op lives in a small kernel class that reads like its formula.
 */
public final class CpuBackend extends AbstractBackend {
    private final CpuParallel par;
    private final CpuConv conv;
    private final CpuDense dense;
    /** The Vector API kernels, or null for the scalar ones. */
    private final VectorKernels vector;
    private volatile boolean closed;

    /** A backend using RECEPTIVE_THREADS threads (system property receptive.threads wins), else every core. */
    public CpuBackend() {
        this(CpuParallel.defaultThreads());
    }

    /**
     * A backend splitting each op over {@code threads} threads (the caller's included); results do not depend on it.
     *
     * @param threads at least 1; 1 runs every op on the calling thread, more start a pool of daemon threads
     *     that {@link #close()} stops
     * @throws IllegalArgumentException when threads &lt; 1
     */
    public CpuBackend(int threads) {
        this.par = new CpuParallel(threads);
        this.conv = new CpuConv(par);
        this.dense = new CpuDense(par);
        Optional<VectorKernels> v = VectorKernels.load();
        this.vector = v.orElse(null);
    }

    /** {@return "Vector API, 512-bit" (or 256-bit) when the Vector API kernels run, else "scalar"} */
    public String kernels() {
        return vector == null ? "scalar" : vector.description();
    }

    /** {@return how many threads each op is split over, the caller's included} */
    public int threads() {
        return par.threads();
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String description() {
        return "cpu (" + par.threads() + (par.threads() == 1 ? " thread, " : " threads, ") + kernels() + " kernels, "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ")";
    }

    private static float[] d(Tensor t) {
        return ((CpuTensor) t).data();
    }

    private static float[] dOrNull(Tensor t) {
        return t == null ? null : d(t);
    }

    // ---- memory -------------------------------------------------------------------------

    @Override
    public Tensor allocate(Shape shape) {
        checkOpen();
        return new CpuTensor(this, shape);
    }

    /** Refuses work once closed: the worker threads are gone and the tensors are released. */
    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this cpu backend is closed");
        }
    }

    @Override
    protected void uploadImpl(Tensor dst, float[] data) {
        System.arraycopy(data, 0, d(dst), 0, data.length);
    }

    @Override
    protected void downloadImpl(Tensor src, float[] dst) {
        System.arraycopy(d(src), 0, dst, 0, dst.length);
    }

    @Override
    protected void copyImpl(Tensor dst, Tensor src) {
        System.arraycopy(d(src), 0, d(dst), 0, src.size());
    }

    @Override
    protected void fillImpl(Tensor dst, float value) {
        Arrays.fill(d(dst), value);
    }

    @Override
    public void synchronize() {
        // Every CPU op has finished when it returns.
    }

    // ---- conv2d and dense ---------------------------------------------------------------

    @Override
    protected void conv2dForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams p) {
        if (vector != null && vector.conv2dForward(par, d(y), d(x), d(w), dOrNull(b), x.shape(), w.shape(), y.shape(), p)) {
            return;
        }
        conv.forward(d(y), d(x), d(w), dOrNull(b), x.shape(), w.shape(), y.shape(), p);
    }

    @Override
    protected void conv2dBackwardDataImpl(Tensor dx, Tensor dy, Tensor w, Conv2dParams p) {
        if (vector != null && vector.conv2dBackwardData(par, d(dx), d(dy), d(w), dx.shape(), w.shape(), dy.shape(), p)) {
            return;
        }
        conv.backwardData(d(dx), d(dy), d(w), dx.shape(), w.shape(), dy.shape(), p);
    }

    @Override
    protected void conv2dBackwardFilterImpl(Tensor dw, Tensor x, Tensor dy, Conv2dParams p, boolean accumulate) {
        if (vector != null
                && vector.conv2dBackwardFilter(par, d(dw), d(x), d(dy), x.shape(), dw.shape(), dy.shape(), p, accumulate)) {
            return;
        }
        conv.backwardFilter(d(dw), d(x), d(dy), x.shape(), dw.shape(), dy.shape(), p, accumulate);
    }

    @Override
    protected void conv2dBackwardBiasImpl(Tensor db, Tensor dy, boolean accumulate) {
        if (vector != null) {
            Shape s = dy.shape();
            vector.conv2dBackwardBias(par, d(db), d(dy), s.dim(0), s.dim(1), s.dim(2) * s.dim(3), accumulate);
            return;
        }
        conv.backwardBias(d(db), d(dy), dy.shape(), accumulate);
    }

    @Override
    protected void denseForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b) {
        Shape ws = w.shape();
        if (vector != null) {
            vector.denseForward(par, d(y), d(x), d(w), dOrNull(b), x.shape().dim(0), ws.dim(1), ws.dim(0));
            return;
        }
        dense.forward(d(y), d(x), d(w), dOrNull(b), x.shape().dim(0), ws.dim(1), ws.dim(0));
    }

    @Override
    protected void denseBackwardImpl(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, boolean accumulate) {
        Shape ws = w.shape();
        if (vector != null) {
            vector.denseBackward(par, dOrNull(dx), d(dw), dOrNull(db), d(dy), d(x), d(w), x.shape().dim(0), ws.dim(1),
                    ws.dim(0), accumulate);
            return;
        }
        dense.backward(dOrNull(dx), d(dw), dOrNull(db), d(dy), d(x), d(w), x.shape().dim(0), ws.dim(1), ws.dim(0),
                accumulate);
    }

    // ---- batch normalization ----------------------------------------------------------

    @Override
    protected void batchNormForwardTrainingImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        Shape s = x.shape();
        CpuBatchNorm.forwardTraining(par, d(y), d(x), d(gamma), d(beta), d(runningMean), d(runningVar), d(saveMean),
                d(saveInvStd), s.dim(0), s.dim(1), s.sizePerItem() / s.dim(1), momentum, eps);
    }

    @Override
    protected void batchNormForwardInferenceImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, float eps) {
        Shape s = x.shape();
        CpuBatchNorm.forwardInference(par, d(y), d(x), d(gamma), d(beta), d(runningMean), d(runningVar), s.dim(0),
                s.dim(1), s.sizePerItem() / s.dim(1), eps);
    }

    @Override
    protected void batchNormBackwardImpl(Tensor dx, Tensor dGamma, Tensor dBeta, Tensor dy, Tensor x, Tensor gamma,
            Tensor saveMean, Tensor saveInvStd, float eps, boolean accumulate) {
        Shape s = x.shape();
        CpuBatchNorm.backward(par, d(dx), d(dGamma), d(dBeta), d(dy), d(x), d(gamma), d(saveMean), d(saveInvStd),
                s.dim(0), s.dim(1), s.sizePerItem() / s.dim(1), accumulate);
    }

    // ---- pooling ------------------------------------------------------------------------

    @Override
    protected void pool2dForwardImpl(PoolMode mode, Tensor y, Tensor x, Pool2dParams p) {
        CpuPool.forward(par, mode, d(y), d(x), x.shape(), y.shape(), p);
    }

    @Override
    protected void pool2dBackwardImpl(PoolMode mode, Tensor dx, Tensor dy, Tensor x, Tensor y, Pool2dParams p) {
        CpuPool.backward(par, mode, d(dx), d(dy), d(x), d(y), x.shape(), y.shape(), p, vector);
    }

    // ---- activations and softmax --------------------------------------------------------

    @Override
    protected void activationForwardImpl(Activation f, Tensor y, Tensor x) {
        CpuPointwise.activationForward(par, f, d(y), d(x), x.size());
    }

    @Override
    protected void activationBackwardImpl(Activation f, Tensor dx, Tensor dy, Tensor y) {
        if (vector != null && f == Activation.RELU) {
            vector.reluBackward(par, d(dx), d(dy), d(y), y.size());
            return;
        }
        CpuPointwise.activationBackward(par, f, d(dx), d(dy), d(y), y.size());
    }

    @Override
    protected void softmaxForwardImpl(Tensor y, Tensor x, boolean log) {
        Shape s = x.shape();
        CpuPointwise.softmaxForward(par, d(y), d(x), s.dim(0), s.sizePerItem(), log);
    }

    @Override
    protected void softmaxBackwardImpl(Tensor dx, Tensor dy, Tensor y) {
        Shape s = y.shape();
        CpuPointwise.softmaxBackward(par, d(dx), d(dy), d(y), s.dim(0), s.sizePerItem());
    }

    // ---- losses -------------------------------------------------------------------------

    @Override
    protected void softmaxCrossEntropyImpl(Tensor loss, Tensor dz, Tensor z, Tensor labels) {
        Shape s = z.shape();
        d(loss)[0] = CpuLosses.softmaxCrossEntropy(dOrNull(dz), d(z), d(labels), s.dim(0), s.dim(1));
    }

    @Override
    protected void meanSquaredErrorImpl(Tensor loss, Tensor dp, Tensor p, Tensor t) {
        d(loss)[0] = CpuLosses.meanSquaredError(dOrNull(dp), d(p), d(t), p.size());
    }

    @Override
    protected void hingeLossImpl(Tensor loss, Tensor dz, Tensor z, Tensor labels) {
        Shape s = z.shape();
        d(loss)[0] = CpuLosses.hinge(dOrNull(dz), d(z), d(labels), s.dim(0), s.dim(1));
    }

    // ---- dropout and optimizers ---------------------------------------------------------

    @Override
    protected void dropoutImpl(Tensor y, Tensor x, float p, long seed, int stream, int step, long offset) {
        CpuDropout.apply(par, d(y), d(x), x.size(), p, seed, stream, step, offset);
    }

    @Override
    protected void sgdUpdateImpl(Tensor w, Tensor dw, Tensor velocity, SgdParams params) {
        CpuOptimizers.sgd(par, d(w), d(dw), dOrNull(velocity), w.size(), params);
    }

    @Override
    protected void adamUpdateImpl(Tensor w, Tensor dw, Tensor m, Tensor v, AdamParams params) {
        if (vector != null) {
            vector.adamUpdate(par, d(w), d(dw), d(m), d(v), w.size(), params);
            return;
        }
        CpuOptimizers.adam(par, d(w), d(dw), d(m), d(v), w.size(), params);
    }

    // ---- merges -------------------------------------------------------------------------

    @Override
    protected void concatForwardImpl(Tensor y, List<Tensor> xs) {
        int n = y.shape().dim(0);
        int row = y.shape().sizePerItem();
        float[] out = d(y);
        int at = 0;
        for (Tensor x : xs) {
            int part = x.shape().sizePerItem();
            float[] in = d(x);
            for (int i = 0; i < n; i++) {
                System.arraycopy(in, i * part, out, i * row + at, part);
            }
            at += part;
        }
    }

    @Override
    protected void concatBackwardImpl(List<Tensor> dxs, Tensor dy, int[] channels) {
        int n = dy.shape().dim(0);
        int row = dy.shape().sizePerItem();
        int inner = row / dy.shape().dim(1);
        float[] grad = d(dy);
        int at = 0;
        for (int k = 0; k < channels.length; k++) {
            int part = channels[k] * inner;
            Tensor dx = dxs.get(k);
            if (dx != null) {
                float[] out = d(dx);
                for (int i = 0; i < n; i++) {
                    System.arraycopy(grad, i * row + at, out, i * part, part);
                }
            }
            at += part;
        }
    }

    // ---- helpers ------------------------------------------------------------------------

    @Override
    protected void addImpl(Tensor y, Tensor a, Tensor b) {
        CpuPointwise.add(par, d(y), d(a), d(b), y.size());
    }

    @Override
    protected void scaleImpl(Tensor y, Tensor x, float alpha) {
        CpuPointwise.scale(par, d(y), d(x), alpha, y.size());
    }

    @Override
    protected void axpyImpl(Tensor y, float alpha, Tensor x) {
        CpuPointwise.axpy(par, d(y), alpha, d(x), y.size());
    }

    @Override
    protected void argmaxImpl(Tensor out, Tensor x) {
        Shape s = x.shape();
        CpuPointwise.argmax(d(out), d(x), s.dim(0), s.sizePerItem());
    }

    @Override
    protected void sumImpl(Tensor out, Tensor x) {
        d(out)[0] = CpuPointwise.sum(d(x), x.size());
    }

    @Override
    public void close() {
        closed = true;
        par.close();
    }
}
