package dev.receptive.nn.loss;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * Softmax cross-entropy with label smoothing ε over K classes, from the contract's ops: the plain
 * loss and its gradient (p − onehot)/N, then
 * <pre>
 *   loss = (1 − ε)·CE − ε/(N·K)·Σ log p
 *   dz   = (1 − ε)·(p − onehot)/N + ε/N·p − ε/(N·K)   = (p − q)/N with q the smoothed target
 * </pre>
 * z: (N, classes); labels: (N).
 */
final class SmoothedSoftmaxCrossEntropy extends Loss {
    private final float eps;
    private Tensor logp; // (N, K)
    private Tensor p; // (N, K)
    private Tensor ones; // (N, K)
    private Tensor sum; // (1)

    SmoothedSoftmaxCrossEntropy(float eps) {
        this.eps = eps;
    }

    @Override
    public String name() {
        return "softmaxCrossEntropy(labelSmoothing=" + eps + ")";
    }

    @Override
    protected void computeInternal(Backend backend, Tensor loss, Tensor dOutput, Tensor output, Tensor target) {
        Shape s = output.shape();
        if (s.rank() != 2) {
            throw new IllegalArgumentException(name() + ": expected logits (N, classes) but got " + s);
        }
        prepare(backend, s);
        int n = s.dim(0);
        int k = s.dim(1);
        backend.softmaxCrossEntropy(loss, dOutput, output, target);
        backend.logSoftmaxForward(logp, output);
        backend.sum(sum, logp);
        backend.scale(loss, loss, 1 - eps);
        backend.axpy(loss, -eps / ((float) n * k), sum);
        if (dOutput != null) {
            backend.softmaxForward(p, output);
            backend.scale(dOutput, dOutput, 1 - eps);
            backend.axpy(dOutput, eps / n, p);
            backend.axpy(dOutput, -eps / ((float) n * k), ones);
        }
    }

    private void prepare(Backend backend, Shape s) {
        if (logp != null && logp.shape().equals(s) && logp.backend() == backend) {
            return;
        }
        closeInternal();
        logp = backend.allocate(s);
        p = backend.allocate(s);
        ones = backend.allocate(s);
        backend.fill(ones, 1f);
        sum = backend.allocate(Shape.of(1));
    }

    @Override
    protected void closeInternal() {
        for (Tensor t : new Tensor[] {sum, ones, p, logp}) {
            if (t != null) {
                t.close();
            }
        }
        sum = null;
        ones = null;
        p = null;
        logp = null;
    }
}
