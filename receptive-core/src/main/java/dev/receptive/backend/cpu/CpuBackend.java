package dev.receptive.backend.cpu;

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
import java.util.Arrays;
import java.util.List;

/**
 * The pure-Java backend: the reference every other backend is checked against, and fast enough
 * to train on a laptop. Its tensors are float arrays on the Java heap; each op checks its
 * arguments, then hands the arrays to the {@link CpuKernels} chosen when the backend is made (the
 * Vector API kernels when the JVM has them, else the scalar reference). Usually made through
 * {@code Backends.create("cpu")}, which finds {@link CpuBackendProvider}.
 */
public final class CpuBackend extends AbstractBackend {
    private final CpuParallel par;
    private final CpuKernels kernels;
    private final BackendCapabilities capabilities;
    private volatile boolean closed;

    /**
     * A backend using the default thread count: the system property receptive.threads, else the
     * environment variable RECEPTIVE_THREADS, else every core.
     *
     * @throws IllegalArgumentException when the property or variable is not a whole number from 1 to 4 per core
     */
    public CpuBackend() {
        this(CpuParallel.defaultThreads());
    }

    /**
     * A backend splitting each op over {@code threads} threads (the caller's included); results do not depend on it.
     *
     * @param threads from 1 to 4 per core the JVM may use; 1 runs every op on the calling thread, more start a
     *     pool of daemon threads that {@link #close()} stops
     * @throws IllegalArgumentException when threads is out of that range
     */
    public CpuBackend(int threads) {
        this.par = new CpuParallel(threads);
        this.kernels = CpuKernels.choose(par, VectorKernels.load());
        this.capabilities = new BackendCapabilities("cpu", System.getProperty("os.arch") + ", "
                + Runtime.getRuntime().availableProcessors() + " cores", BackendCapabilities.Memory.JAVA_HEAP,
                threads, true, kernels.description());
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String description() {
        return "cpu (" + par.threads() + (par.threads() == 1 ? " thread, " : " threads, ") + kernels.description()
                + " kernels, " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ")";
    }

    /** {@inheritDoc} Every op gives the same bits on every run and thread count. */
    @Override
    public BackendCapabilities capabilities() {
        return capabilities;
    }

    @Override
    public long freeMemory() {
        checkOpen();
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
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
        kernels.conv2dForward(d(y), d(x), d(w), dOrNull(b), x.shape(), w.shape(), y.shape(), p);
    }

    @Override
    protected void conv2dBiasReluForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams p) {
        kernels.conv2dBiasReluForward(d(y), d(x), d(w), dOrNull(b), x.shape(), w.shape(), y.shape(), p);
    }

    @Override
    protected void conv2dBackwardDataImpl(Tensor dx, Tensor dy, Tensor w, Conv2dParams p) {
        kernels.conv2dBackwardData(d(dx), d(dy), d(w), dx.shape(), w.shape(), dy.shape(), p);
    }

    @Override
    protected void conv2dBackwardFilterImpl(Tensor dw, Tensor x, Tensor dy, Conv2dParams p, boolean accumulate) {
        kernels.conv2dBackwardFilter(d(dw), d(x), d(dy), x.shape(), dw.shape(), dy.shape(), p, accumulate);
    }

    @Override
    protected void conv2dBackwardBiasImpl(Tensor db, Tensor dy, boolean accumulate) {
        kernels.conv2dBackwardBias(d(db), d(dy), dy.shape(), accumulate);
    }

    @Override
    protected void denseForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b) {
        Shape ws = w.shape();
        kernels.denseForward(d(y), d(x), d(w), dOrNull(b), x.shape().dim(0), ws.dim(1), ws.dim(0));
    }

    @Override
    protected void denseBiasReluForwardImpl(Tensor y, Tensor x, Tensor w, Tensor b) {
        Shape ws = w.shape();
        kernels.denseBiasReluForward(d(y), d(x), d(w), dOrNull(b), x.shape().dim(0), ws.dim(1), ws.dim(0));
    }

    @Override
    protected void denseBackwardImpl(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, boolean accumulate) {
        Shape ws = w.shape();
        kernels.denseBackward(dOrNull(dx), d(dw), dOrNull(db), d(dy), d(x), d(w), x.shape().dim(0), ws.dim(1),
                ws.dim(0), accumulate);
    }

    // ---- batch normalization ----------------------------------------------------------

    @Override
    protected void batchNormForwardTrainingImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        batchNormTraining(y, x, null, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, momentum, eps, false);
    }

    @Override
    protected void batchNormReluForwardTrainingImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        batchNormTraining(y, x, null, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, momentum, eps, true);
    }

    @Override
    protected void batchNormAddReluForwardTrainingImpl(Tensor y, Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
            Tensor runningMean, Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        batchNormTraining(y, x, shortcut, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, momentum, eps,
                true);
    }

    private void batchNormTraining(Tensor y, Tensor x, Tensor shortcut, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps, boolean relu) {
        Shape s = x.shape();
        kernels.batchNormForwardTraining(d(y), d(x), shortcut == null ? null : d(shortcut), d(gamma), d(beta),
                d(runningMean), d(runningVar), d(saveMean), d(saveInvStd), s.dim(0), s.dim(1),
                s.sizePerItem() / s.dim(1), momentum, eps, relu);
    }

    @Override
    protected void batchNormForwardInferenceImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, float eps) {
        batchNormInference(y, x, null, gamma, beta, runningMean, runningVar, eps, false);
    }

    @Override
    protected void batchNormReluForwardInferenceImpl(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, float eps) {
        batchNormInference(y, x, null, gamma, beta, runningMean, runningVar, eps, true);
    }

    @Override
    protected void batchNormAddReluForwardInferenceImpl(Tensor y, Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
            Tensor runningMean, Tensor runningVar, float eps) {
        batchNormInference(y, x, shortcut, gamma, beta, runningMean, runningVar, eps, true);
    }

    private void batchNormInference(Tensor y, Tensor x, Tensor shortcut, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, float eps, boolean relu) {
        Shape s = x.shape();
        kernels.batchNormForwardInference(d(y), d(x), shortcut == null ? null : d(shortcut), d(gamma), d(beta),
                d(runningMean), d(runningVar), s.dim(0), s.dim(1), s.sizePerItem() / s.dim(1), eps, relu);
    }

    @Override
    protected void batchNormBackwardImpl(Tensor dx, Tensor dGamma, Tensor dBeta, Tensor dy, Tensor x, Tensor gamma,
            Tensor saveMean, Tensor saveInvStd, float eps, boolean accumulate) {
        Shape s = x.shape();
        kernels.batchNormBackward(d(dx), d(dGamma), d(dBeta), d(dy), d(x), d(gamma), d(saveMean), d(saveInvStd),
                s.dim(0), s.dim(1), s.sizePerItem() / s.dim(1), accumulate);
    }

    // ---- pooling ------------------------------------------------------------------------

    @Override
    protected void pool2dForwardImpl(PoolMode mode, Tensor y, Tensor x, Pool2dParams p) {
        kernels.pool2dForward(mode, d(y), d(x), x.shape(), y.shape(), p);
    }

    @Override
    protected void pool2dBackwardImpl(PoolMode mode, Tensor dx, Tensor dy, Tensor x, Tensor y, Pool2dParams p) {
        kernels.pool2dBackward(mode, d(dx), d(dy), d(x), d(y), x.shape(), y.shape(), p);
    }

    // ---- activations and softmax --------------------------------------------------------

    @Override
    protected void activationForwardImpl(Activation f, Tensor y, Tensor x) {
        kernels.activationForward(f, d(y), d(x), x.size());
    }

    @Override
    protected void activationBackwardImpl(Activation f, Tensor dx, Tensor dy, Tensor y) {
        kernels.activationBackward(f, d(dx), d(dy), d(y), y.size());
    }

    @Override
    protected void softmaxForwardImpl(Tensor y, Tensor x, boolean log) {
        Shape s = x.shape();
        kernels.softmaxForward(d(y), d(x), s.dim(0), s.sizePerItem(), log);
    }

    @Override
    protected void softmaxBackwardImpl(Tensor dx, Tensor dy, Tensor y) {
        Shape s = y.shape();
        kernels.softmaxBackward(d(dx), d(dy), d(y), s.dim(0), s.sizePerItem());
    }

    // ---- losses -------------------------------------------------------------------------

    @Override
    protected void softmaxCrossEntropyImpl(Tensor loss, Tensor dz, Tensor z, Tensor labels) {
        Shape s = z.shape();
        d(loss)[0] = kernels.softmaxCrossEntropy(dOrNull(dz), d(z), d(labels), s.dim(0), s.dim(1));
    }

    @Override
    protected void meanSquaredErrorImpl(Tensor loss, Tensor dp, Tensor p, Tensor t) {
        d(loss)[0] = kernels.meanSquaredError(dOrNull(dp), d(p), d(t), p.size());
    }

    @Override
    protected void hingeLossImpl(Tensor loss, Tensor dz, Tensor z, Tensor labels) {
        Shape s = z.shape();
        d(loss)[0] = kernels.hingeLoss(dOrNull(dz), d(z), d(labels), s.dim(0), s.dim(1));
    }

    // ---- dropout and optimizers ---------------------------------------------------------

    @Override
    protected void dropoutImpl(Tensor y, Tensor x, float p, long seed, int stream, int step, long offset) {
        kernels.dropout(d(y), d(x), x.size(), p, seed, stream, step, offset);
    }

    @Override
    protected void sgdUpdateImpl(Tensor w, Tensor dw, Tensor velocity, SgdParams params) {
        kernels.sgdUpdate(d(w), d(dw), dOrNull(velocity), w.size(), params);
    }

    @Override
    protected void adamUpdateImpl(Tensor w, Tensor dw, Tensor m, Tensor v, AdamParams params) {
        kernels.adamUpdate(d(w), d(dw), d(m), d(v), w.size(), params);
    }

    // ---- merges: each input is one slice of every item's row ----------------------------

    @Override
    protected void concatForwardImpl(Tensor y, List<Tensor> xs) {
        int n = y.shape().dim(0);
        int row = y.shape().sizePerItem();
        float[] out = d(y);
        int at = 0;
        for (Tensor x : xs) {
            int part = x.shape().sizePerItem();
            kernels.copyRows(out, row, at, d(x), part, 0, part, n);
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
                kernels.copyRows(d(dx), part, 0, grad, row, at, part, n);
            }
            at += part;
        }
    }

    // ---- helpers ------------------------------------------------------------------------

    @Override
    protected void addImpl(Tensor y, Tensor a, Tensor b) {
        kernels.add(d(y), d(a), d(b), y.size());
    }

    @Override
    protected void scaleImpl(Tensor y, Tensor x, float alpha) {
        kernels.scale(d(y), d(x), alpha, y.size());
    }

    @Override
    protected void axpyImpl(Tensor y, float alpha, Tensor x) {
        kernels.axpy(d(y), alpha, d(x), y.size());
    }

    @Override
    protected void argmaxImpl(Tensor out, Tensor x) {
        Shape s = x.shape();
        kernels.argmax(d(out), d(x), s.dim(0), s.sizePerItem());
    }

    @Override
    protected void sumImpl(Tensor out, Tensor x) {
        d(out)[0] = kernels.sum(d(x), x.size());
    }

    @Override
    public void close() {
        closed = true;
        par.close();
    }
}
