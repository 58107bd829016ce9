package dev.receptive.backend;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;

/**
 * The op contract: every operation a layer may ask for, forward and backward. Layers call these
 * and nothing else, so a model runs unchanged on every backend.
 *
 * <p>Conventions, for every op:
 * <ul>
 *   <li>Outputs come first, then inputs, then parameters. Outputs are overwritten (cuDNN's
 *       beta = 0), except parameter gradients of ops that take {@code accumulate}: with it they
 *       are added to (beta = 1), so gradients of several micro-batches or branches sum up.</li>
 *   <li>All tensors are float32, NCHW, and must belong to this backend and be open.</li>
 *   <li>Shapes are validated; a mismatch throws {@link IllegalArgumentException} whose message
 *       names the op, the expected and the actual shape.</li>
 *   <li>Class labels are stored as floats holding whole numbers 0 ≤ label &lt; classes.</li>
 *   <li>Results do not depend on how many threads or blocks the backend uses.</li>
 * </ul>
 */
public interface Backend extends AutoCloseable {

    /** Short name used in messages and on the command line: "cpu" or "cuda". */
    String name();

    /** One line describing the device, e.g. "cpu (2 threads)". */
    String description();

    // ---- memory -------------------------------------------------------------------------

    /** A new tensor of the given shape, filled with zeros. */
    Tensor allocate(Shape shape);

    /** A new tensor holding a copy of {@code data}, which must have exactly shape.size() elements. */
    Tensor upload(float[] data, Shape shape);

    /** Copies host data into an existing tensor; data.length must equal dst.size(). */
    void upload(Tensor dst, float[] data);

    /** Copies the tensor to a new host array. */
    float[] download(Tensor src);

    /** Copies the tensor into dst, which must have exactly src.size() elements. */
    void download(Tensor src, float[] dst);

    /** dst = src; shapes must have the same number of elements. */
    void copy(Tensor dst, Tensor src);

    void fill(Tensor dst, float value);

    /** Waits until all queued work is done (a no-op on synchronous backends). */
    void synchronize();

    // ---- conv2d -------------------------------------------------------------------------

    /**
     * y[n,k,p,q] = b[k] + Σ_{c,r,s} w[k,c,r,s] · x[n, c, p·sh − ph + r·dh, q·sw − pw + s·dw]
     * (zero outside x).
     * x: (N, C, H, W); w: (K, C, R, S); b: (K) or null; y: (N, K, P, Q) per {@link Conv2dParams}.
     */
    void conv2dForward(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams params);

    /** dx = ∂L/∂x given dy = ∂L/∂y. dx: (N, C, H, W); dy: (N, K, P, Q); w: (K, C, R, S). */
    void conv2dBackwardData(Tensor dx, Tensor dy, Tensor w, Conv2dParams params);

    /**
     * dw = ∂L/∂w, or dw += ∂L/∂w when {@code accumulate}. dw: (K, C, R, S); x: (N, C, H, W);
     * dy: (N, K, P, Q).
     */
    void conv2dBackwardFilter(Tensor dw, Tensor x, Tensor dy, Conv2dParams params, boolean accumulate);

    /** db[k] = Σ_{n,p,q} dy[n,k,p,q] (db[k] += … when {@code accumulate}). db: (K); dy: (N, K, P, Q). */
    void conv2dBackwardBias(Tensor db, Tensor dy, boolean accumulate);

    // ---- pooling ------------------------------------------------------------------------

    /** x: (N, C, H, W); y: (N, C, P, Q) per {@link Pool2dParams}. */
    void pool2dForward(PoolMode mode, Tensor y, Tensor x, Pool2dParams params);

    /**
     * dx from dy. Max pooling sends each dy to the first position (row-major within the
     * window) holding the maximum; average pooling spreads dy evenly over the whole window.
     * dx, x: (N, C, H, W); dy, y: (N, C, P, Q).
     */
    void pool2dBackward(PoolMode mode, Tensor dx, Tensor dy, Tensor x, Tensor y, Pool2dParams params);

    // ---- pointwise activations ----------------------------------------------------------

    /** y = f(x), elementwise; any shape, y and x the same size. y may be x (in place). */
    void activationForward(Activation f, Tensor y, Tensor x);

    /** dx = dy · f'(x), written through y = f(x) (see {@link Activation}). dx may be dy. */
    void activationBackward(Activation f, Tensor dx, Tensor dy, Tensor y);

    // ---- softmax over the features of each row ------------------------------------------

    /** y[n,i] = exp(x[n,i]) / Σ_j exp(x[n,j]); x, y: (N, ...) with the features flattened. */
    void softmaxForward(Tensor y, Tensor x);

    /** y[n,i] = x[n,i] − log Σ_j exp(x[n,j]). */
    void logSoftmaxForward(Tensor y, Tensor x);

    /** dx[n,i] = y[n,i] · (dy[n,i] − Σ_j dy[n,j]·y[n,j]) where y = softmax(x). */
    void softmaxBackward(Tensor dx, Tensor dy, Tensor y);

    // ---- dense (fully connected) --------------------------------------------------------

    /** y = x·wᵀ + b. x: (N, in) (or any (N, ...) flattened); w: (out, in); b: (out) or null; y: (N, out). */
    void denseForward(Tensor y, Tensor x, Tensor w, Tensor b);

    /**
     * dx = dy·w (skipped when dx is null), dw = dyᵀ·x, db = Σ_n dy[n] (skipped when db is null);
     * with {@code accumulate}, dw and db are added to (dx is always overwritten).
     * dy: (N, out); x, dx: (N, in); w, dw: (out, in); db: (out).
     */
    void denseBackward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, boolean accumulate);

    // ---- losses: forward and gradient fused ---------------------------------------------

    /**
     * Softmax cross-entropy, mean over the batch: loss = −(1/N) Σ_n log softmax(z)[n, label_n];
     * dz = (softmax(z) − onehot(label)) / N (skipped when dz is null).
     * loss: (1); z, dz: (N, classes); labels: (N).
     *
     * @throws IllegalArgumentException when z holds NaN or a label is out of range (where the
     *     backend can see it without waiting for the device)
     */
    void softmaxCrossEntropy(Tensor loss, Tensor dz, Tensor z, Tensor labels);

    /** loss = mean((p − t)²) over all elements; dp = 2(p − t)/size (skipped when null). */
    void meanSquaredError(Tensor loss, Tensor dp, Tensor p, Tensor t);

    /**
     * Multi-class hinge (PyTorch MultiMarginLoss, margin 1): loss = (1/N) Σ_n Σ_{j≠y_n}
     * max(0, 1 − z[n,y_n] + z[n,j]) / classes; dz its gradient (skipped when null).
     * loss: (1); z, dz: (N, classes); labels: (N).
     */
    void hingeLoss(Tensor loss, Tensor dz, Tensor z, Tensor labels);

    // ---- dropout (Philox4x32-10; identical masks on every backend, see docs/design.md) ---

    /**
     * Inverted dropout: y[i] = keep ? x[i] / (1 − p) : 0, with keep decided by Philox for element
     * offset + i from (seed, stream, step). 0 ≤ p &lt; 1; offset ≥ 0. y may be x.
     *
     * <p>{@code offset} is the index of x's first element in the whole batch: 0 for a batch run at
     * once, (first sample) · (elements per sample) for a shard of it, so shards split across
     * threads or machines draw exactly the mask of the unsplit batch.
     */
    void dropoutForward(Tensor y, Tensor x, float p, long seed, int stream, int step, long offset);

    /** dx = keep ? dy / (1 − p) : 0 with the same mask as the forward call of (seed, stream, step, offset). */
    void dropoutBackward(Tensor dx, Tensor dy, float p, long seed, int stream, int step, long offset);

    // ---- optimizer updates, in place ----------------------------------------------------

    /** One SGD step on w; velocity (same shape as w) may be null when momentum is 0. */
    void sgdUpdate(Tensor w, Tensor dw, Tensor velocity, SgdParams params);

    /** One Adam/AdamW step on w with moments m and v (same shape as w). */
    void adamUpdate(Tensor w, Tensor dw, Tensor m, Tensor v, AdamParams params);

    // ---- small helpers ------------------------------------------------------------------

    /** y = a + b, elementwise (same sizes). y may alias a or b. */
    void add(Tensor y, Tensor a, Tensor b);

    /** y = alpha·x. y may be x. */
    void scale(Tensor y, Tensor x, float alpha);

    /** y += alpha·x. */
    void axpy(Tensor y, float alpha, Tensor x);

    /** out[n] = index of the largest x[n, i] (the first one on ties), as a float. x: (N, ...); out: (N). */
    void argmax(Tensor out, Tensor x);

    /** out[0] = Σ x. out: (1). */
    void sum(Tensor out, Tensor x);

    /** Releases every resource of the backend; tensors it made must not be used afterwards. */
    @Override
    void close();
}
