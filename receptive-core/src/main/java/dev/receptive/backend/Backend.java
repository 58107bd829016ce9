package dev.receptive.backend;

import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.List;

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
 * A backend and its tensors are used by one thread at a time. Make one with {@link Backends}.
 */
public interface Backend extends AutoCloseable {

    /**
     * The backend's short name, as {@link Backends#create(String)} takes it.
     *
     * @return "cpu" or "cuda"
     */
    String name();

    /**
     * One line describing the device, for logs and reports.
     *
     * @return e.g. "cpu (2 threads, OpenJDK 64-Bit Server VM 17.0.15)"
     */
    String description();

    /**
     * What this backend is, for code that must plan around it without naming its class: where its
     * memory lives, its threads, whether its results repeat bit for bit, its kernels.
     *
     * @return the same answer for as long as the backend is open
     */
    BackendCapabilities capabilities();

    /**
     * How many bytes new tensors can still take, so a caller can refuse work before allocating it:
     * the free Java heap under -Xmx for {@link BackendCapabilities.Memory#JAVA_HEAP}, the device's
     * free memory plus what this backend holds cached for reuse for
     * {@link BackendCapabilities.Memory#DEVICE}. A snapshot: other threads and processes change it.
     *
     * @return free bytes now
     * @throws IllegalStateException when the backend is closed
     */
    long freeMemory();

    // ---- memory -------------------------------------------------------------------------

    /**
     * A new tensor filled with zeros.
     *
     * @param shape its shape
     * @return the tensor; the caller owns it and closes it
     */
    Tensor allocate(Shape shape);

    /**
     * A new tensor holding a copy of host data.
     *
     * @param data exactly shape.size() values in row-major (NCHW) order
     * @param shape the tensor's shape
     * @return the tensor; the caller owns it and closes it
     */
    Tensor upload(float[] data, Shape shape);

    /**
     * Copies host data into an existing tensor.
     *
     * @param dst the tensor to overwrite
     * @param data exactly dst.size() values in row-major order
     */
    void upload(Tensor dst, float[] data);

    /**
     * Copies a tensor to a new host array, waiting for the work queued before.
     *
     * @param src the tensor to read
     * @return its values in row-major order
     */
    float[] download(Tensor src);

    /**
     * Copies a tensor into a host array, waiting for the work queued before.
     *
     * @param src the tensor to read
     * @param dst exactly src.size() values, overwritten
     */
    void download(Tensor src, float[] dst);

    /**
     * dst = src, element by element.
     *
     * @param dst the tensor to overwrite
     * @param src a tensor with the same number of elements (the shapes may differ)
     */
    void copy(Tensor dst, Tensor src);

    /**
     * Sets every element to one value.
     *
     * @param dst the tensor to overwrite
     * @param value written to every element
     */
    void fill(Tensor dst, float value);

    /** Waits until all queued work is done (a no-op on synchronous backends). */
    void synchronize();

    // ---- conv2d -------------------------------------------------------------------------

    /**
     * 2-D cross-correlation (PyTorch's and cuDNN's convolution):
     * y[n,k,p,q] = b[k] + Σ_{c,r,s} w[k,c,r,s] · x[n, c, p·sh − ph + r·dh, q·sw − pw + s·dw]
     * (zero outside x).
     *
     * @param y output (N, K, P, Q), P and Q per {@link Conv2dParams#outputShape}
     * @param x input (N, C, H, W)
     * @param w weights (K, C, R, S)
     * @param b bias (K), or null for none
     * @param params stride, padding and dilation
     */
    void conv2dForward(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams params);

    /**
     * The gradient of the input: dx = ∂L/∂x given dy = ∂L/∂y.
     *
     * @param dx output (N, C, H, W)
     * @param dy gradient of the output (N, K, P, Q)
     * @param w weights (K, C, R, S)
     * @param params as in the forward call
     */
    void conv2dBackwardData(Tensor dx, Tensor dy, Tensor w, Conv2dParams params);

    /**
     * The gradient of the weights: dw = ∂L/∂w, or dw += ∂L/∂w when {@code accumulate}.
     *
     * @param dw output (K, C, R, S)
     * @param x the forward call's input (N, C, H, W)
     * @param dy gradient of the output (N, K, P, Q)
     * @param params as in the forward call
     * @param accumulate add to dw instead of overwriting it
     */
    void conv2dBackwardFilter(Tensor dw, Tensor x, Tensor dy, Conv2dParams params, boolean accumulate);

    /**
     * The gradient of the bias: db[k] = Σ_{n,p,q} dy[n,k,p,q] (db[k] += … when {@code accumulate}).
     *
     * @param db output (K)
     * @param dy gradient of the output (N, K, P, Q)
     * @param accumulate add to db instead of overwriting it
     */
    void conv2dBackwardBias(Tensor db, Tensor dy, boolean accumulate);

    // ---- pooling ------------------------------------------------------------------------

    /**
     * 2-D max or average pooling over each channel.
     *
     * @param mode {@link PoolMode#MAX} or {@link PoolMode#AVERAGE}
     * @param y output (N, C, P, Q), P and Q per {@link Pool2dParams#outputShape}
     * @param x input (N, C, H, W)
     * @param params window, stride and padding
     */
    void pool2dForward(PoolMode mode, Tensor y, Tensor x, Pool2dParams params);

    /**
     * dx from dy. Max pooling sends each dy to the first position (row-major within the
     * window) holding the maximum; average pooling spreads dy evenly over the whole window.
     *
     * @param mode as in the forward call
     * @param dx output (N, C, H, W)
     * @param dy gradient of the output (N, C, P, Q)
     * @param x the forward call's input (N, C, H, W)
     * @param y the forward call's output (N, C, P, Q)
     * @param params as in the forward call
     */
    void pool2dBackward(PoolMode mode, Tensor dx, Tensor dy, Tensor x, Tensor y, Pool2dParams params);

    // ---- batch normalization: per channel (dimension 1), over every other dimension ------

    /**
     * Training pass. Per channel c, with the m = N·H·W values x[:, c, ...]: μ their mean, σ² their
     * biased variance, y = γ_c·(x − μ)/√(σ² + eps) + β_c. Writes saveMean = μ and saveInvStd =
     * 1/√(σ² + eps) for the backward pass, and updates the running statistics as PyTorch and cuDNN
     * do: runningMean = (1 − momentum)·runningMean + momentum·μ, runningVar = (1 − momentum)·runningVar
     * + momentum·σ²·m/(m − 1) (the unbiased variance).
     *
     * @param y output, the shape of x
     * @param x input (N, C, ...) with m ≥ 2 values per channel
     * @param gamma the scale γ (C)
     * @param beta the shift β (C)
     * @param runningMean (C), updated in place
     * @param runningVar (C), updated in place
     * @param saveMean output (C): μ, for {@link #batchNormBackward}
     * @param saveInvStd output (C): 1/√(σ² + eps), for {@link #batchNormBackward}
     * @param momentum the weight of this batch in the running statistics, 0 ≤ momentum ≤ 1
     * @param eps added to the variance, finite and ≥ 1e-5 (cuDNN's least)
     */
    void batchNormForwardTraining(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
            Tensor saveMean, Tensor saveInvStd, float momentum, float eps);

    /**
     * Evaluation pass: y = γ_c·(x − runningMean_c)/√(runningVar_c + eps) + β_c. Nothing is updated.
     *
     * @param y output, the shape of x
     * @param x input (N, C, ...)
     * @param gamma the scale γ (C)
     * @param beta the shift β (C)
     * @param runningMean (C), read only
     * @param runningVar (C), read only
     * @param eps added to the variance, finite and ≥ 1e-5
     */
    void batchNormForwardInference(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
            float eps);

    /**
     * Gradients of a training pass, from what it saved: with x̂ = (x − saveMean)·saveInvStd per channel,
     * dβ = Σ dy, dγ = Σ dy·x̂ (added to when {@code accumulate}), and dx = γ·saveInvStd/m ·
     * (m·dy − Σ dy − x̂·Σ dy·x̂) (overwritten).
     *
     * @param dx output, the shape of x
     * @param dGamma the gradient of γ (C)
     * @param dBeta the gradient of β (C)
     * @param dy gradient of the output, the shape of x
     * @param x the training pass's input (N, C, ...)
     * @param gamma the scale γ (C)
     * @param saveMean what the training pass saved (C)
     * @param saveInvStd what the training pass saved (C)
     * @param eps the training pass's
     * @param accumulate add to dGamma and dBeta instead of overwriting them
     */
    void batchNormBackward(Tensor dx, Tensor dGamma, Tensor dBeta, Tensor dy, Tensor x, Tensor gamma, Tensor saveMean,
            Tensor saveInvStd, float eps, boolean accumulate);

    // ---- pointwise activations ----------------------------------------------------------

    /**
     * y = f(x), elementwise.
     *
     * @param f the activation
     * @param y output, the shape of x; may be x (in place)
     * @param x input of any shape
     */
    void activationForward(Activation f, Tensor y, Tensor x);

    /**
     * dx = dy · f'(x), written through y = f(x) (see {@link Activation}).
     *
     * @param f the activation
     * @param dx output, the shape of y; may be dy
     * @param dy gradient of the output
     * @param y the forward call's output
     */
    void activationBackward(Activation f, Tensor dx, Tensor dy, Tensor y);

    // ---- softmax over the features of each row ------------------------------------------

    /**
     * y[n,i] = exp(x[n,i]) / Σ_j exp(x[n,j]) over all features i of each item n (for (N, C, H, W),
     * over C·H·W together).
     *
     * @param y output, the shape of x
     * @param x input (N, ...), rank ≥ 2
     */
    void softmaxForward(Tensor y, Tensor x);

    /**
     * y[n,i] = x[n,i] − log Σ_j exp(x[n,j]), over the features of each item as in
     * {@link #softmaxForward}.
     *
     * @param y output, the shape of x
     * @param x input (N, ...), rank ≥ 2
     */
    void logSoftmaxForward(Tensor y, Tensor x);

    /**
     * dx[n,i] = y[n,i] · (dy[n,i] − Σ_j dy[n,j]·y[n,j]) where y = softmax(x).
     *
     * @param dx output, the shape of y
     * @param dy gradient of the output
     * @param y the forward call's output (N, ...)
     */
    void softmaxBackward(Tensor dx, Tensor dy, Tensor y);

    // ---- dense (fully connected) --------------------------------------------------------

    /**
     * A fully connected layer: y = x·wᵀ + b.
     *
     * @param y output (N, out)
     * @param x input (N, in), or any (N, ...) whose items hold {@code in} values
     * @param w weights (out, in), as PyTorch's nn.Linear
     * @param b bias (out), or null for none
     */
    void denseForward(Tensor y, Tensor x, Tensor w, Tensor b);

    /**
     * dx = dy·w, dw = dyᵀ·x, db = Σ_n dy[n]; with {@code accumulate}, dw and db are added to (dx is
     * always overwritten).
     *
     * @param dx output, the shape of x, or null to skip it (a first layer needs no input gradient)
     * @param dw output (out, in)
     * @param db output (out), or null to skip it
     * @param dy gradient of the output (N, out)
     * @param x the forward call's input
     * @param w weights (out, in)
     * @param accumulate add to dw and db instead of overwriting them
     */
    void denseBackward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, boolean accumulate);

    // ---- fused ops: a layer and the ReLU after it -----------------------------------------
    // The defaults compose the ops above, so every backend has them; a backend overrides one to
    // save the passes over memory between the parts (the CPU applies the bias and the ReLU while
    // it writes the product). Results equal the composed ops within fp32 rounding. A model uses
    // them where its plan finds a convolution or dense layer whose only reader is a ReLU.

    /**
     * y = max(0, conv2d(x, w) + b): {@link #conv2dForward} with the ReLU applied as it writes y.
     *
     * @param y output (N, K, P, Q), after the ReLU
     * @param x input (N, C, H, W)
     * @param w weights (K, C, R, S)
     * @param b bias (K), or null for none
     * @param params stride, padding and dilation
     */
    default void conv2dBiasReluForward(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dParams params) {
        conv2dForward(y, x, w, b, params);
        activationForward(Activation.RELU, y, y);
    }

    /**
     * The backward pass of {@link #conv2dBiasReluForward}: dz = dy · [y &gt; 0], the gradient of the
     * convolution's output, then dx (unless null), dw += and db += (unless null) from dz.
     *
     * @param dx output (N, C, H, W), or null to skip it
     * @param dw weight gradient (K, C, R, S), added to
     * @param db bias gradient (K), added to, or null for none
     * @param dz output (N, K, P, Q): the gradient before the ReLU; may be dy itself
     * @param dy gradient of y (N, K, P, Q)
     * @param x the forward call's input
     * @param w weights (K, C, R, S)
     * @param y the forward call's output (after the ReLU)
     * @param params as in the forward call
     */
    default void conv2dBiasReluBackward(Tensor dx, Tensor dw, Tensor db, Tensor dz, Tensor dy, Tensor x, Tensor w,
            Tensor y, Conv2dParams params) {
        activationBackward(Activation.RELU, dz, dy, y);
        if (dx != null) {
            conv2dBackwardData(dx, dz, w, params);
        }
        conv2dBackwardFilter(dw, x, dz, params, true);
        if (db != null) {
            conv2dBackwardBias(db, dz, true);
        }
    }

    /**
     * y = max(0, x·wᵀ + b): {@link #denseForward} with the ReLU applied as it writes y.
     *
     * @param y output (N, out), after the ReLU
     * @param x input (N, in), or any (N, ...) whose items hold {@code in} values
     * @param w weights (out, in)
     * @param b bias (out), or null for none
     */
    default void denseBiasReluForward(Tensor y, Tensor x, Tensor w, Tensor b) {
        denseForward(y, x, w, b);
        activationForward(Activation.RELU, y, y);
    }

    /**
     * The backward pass of {@link #denseBiasReluForward}: dz = dy · [y &gt; 0], then
     * {@link #denseBackward} from dz with dw and db added to.
     *
     * @param dx output, the shape of x, or null to skip it
     * @param dw weight gradient (out, in), added to
     * @param db bias gradient (out), added to, or null for none
     * @param dz output (N, out): the gradient before the ReLU; may be dy itself
     * @param dy gradient of y (N, out)
     * @param x the forward call's input
     * @param w weights (out, in)
     * @param y the forward call's output (after the ReLU)
     */
    default void denseBiasReluBackward(Tensor dx, Tensor dw, Tensor db, Tensor dz, Tensor dy, Tensor x, Tensor w,
            Tensor y) {
        activationBackward(Activation.RELU, dz, dy, y);
        denseBackward(dx, dw, db, dz, x, w, true);
    }

    /**
     * y = max(0, batch norm(x)) in training: {@link #batchNormForwardTraining} (batch statistics,
     * running statistics updated, saveMean and saveInvStd written) with the ReLU applied as it writes y.
     *
     * @param y output (N, C, ...), after the ReLU
     * @param x input (N, C, ...)
     * @param gamma scale (C)
     * @param beta shift (C)
     * @param runningMean updated in place (C)
     * @param runningVar updated in place (C)
     * @param saveMean output (C): the batch mean, for the backward pass
     * @param saveInvStd output (C): 1/√(batch variance + eps), for the backward pass
     * @param momentum running-statistics factor, in [0, 1]
     * @param eps added to the variance
     */
    default void batchNormReluForwardTraining(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        batchNormForwardTraining(y, x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, momentum, eps);
        activationForward(Activation.RELU, y, y);
    }

    /**
     * y = max(0, batch norm(x)) with the running statistics: {@link #batchNormForwardInference} with
     * the ReLU applied as it writes y.
     *
     * @param y output (N, C, ...), after the ReLU
     * @param x input (N, C, ...)
     * @param gamma scale (C)
     * @param beta shift (C)
     * @param runningMean running mean (C)
     * @param runningVar running variance (C)
     * @param eps added to the variance
     */
    default void batchNormReluForwardInference(Tensor y, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, float eps) {
        batchNormForwardInference(y, x, gamma, beta, runningMean, runningVar, eps);
        activationForward(Activation.RELU, y, y);
    }

    /**
     * The backward pass of {@link #batchNormReluForwardTraining}: dz = dy · [y &gt; 0], then
     * {@link #batchNormBackward} from dz with dGamma and dBeta added to. It is also the backward
     * pass of {@link #batchNormAddReluForwardTraining}, with y that op's output: the add passes
     * its gradient through unchanged, so dz is as well the shortcut's gradient.
     *
     * @param dx output (N, C, ...)
     * @param dGamma added to (C)
     * @param dBeta added to (C)
     * @param dz output (N, C, ...): the gradient before the ReLU; may be dy itself
     * @param dy gradient of y (N, C, ...)
     * @param x the forward call's input
     * @param y the forward call's output (after the ReLU)
     * @param gamma scale (C)
     * @param saveMean as the forward call wrote it (C)
     * @param saveInvStd as the forward call wrote it (C)
     * @param eps as in the forward call
     */
    default void batchNormReluBackward(Tensor dx, Tensor dGamma, Tensor dBeta, Tensor dz, Tensor dy, Tensor x,
            Tensor y, Tensor gamma, Tensor saveMean, Tensor saveInvStd, float eps) {
        activationBackward(Activation.RELU, dz, dy, y);
        batchNormBackward(dx, dGamma, dBeta, dz, x, gamma, saveMean, saveInvStd, eps, true);
    }

    /**
     * y = max(0, batch norm(x) + shortcut) in training, the tail of a residual block (He et al.
     * 2016: the second batch norm, the add of the shortcut, the ReLU):
     * {@link #batchNormForwardTraining} (batch statistics, running statistics updated, saveMean and
     * saveInvStd written), then y + shortcut, then the ReLU, as it writes y. Its backward pass is
     * {@link #batchNormReluBackward} with this y; the dz it writes is the shortcut's gradient too.
     *
     * @param y output (N, C, ...), after the ReLU; neither x nor shortcut
     * @param x input (N, C, ...)
     * @param shortcut added after the normalization (N, C, ...)
     * @param gamma scale (C)
     * @param beta shift (C)
     * @param runningMean updated in place (C)
     * @param runningVar updated in place (C)
     * @param saveMean output (C): the batch mean, for the backward pass
     * @param saveInvStd output (C): 1/√(batch variance + eps), for the backward pass
     * @param momentum running-statistics factor, in [0, 1]
     * @param eps added to the variance
     */
    default void batchNormAddReluForwardTraining(Tensor y, Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
            Tensor runningMean, Tensor runningVar, Tensor saveMean, Tensor saveInvStd, float momentum, float eps) {
        batchNormForwardTraining(y, x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, momentum, eps);
        add(y, y, shortcut);
        activationForward(Activation.RELU, y, y);
    }

    /**
     * y = max(0, batch norm(x) + shortcut) with the running statistics:
     * {@link #batchNormForwardInference}, the add and the ReLU as it writes y.
     *
     * @param y output (N, C, ...), after the ReLU; neither x nor shortcut
     * @param x input (N, C, ...)
     * @param shortcut added after the normalization (N, C, ...)
     * @param gamma scale (C)
     * @param beta shift (C)
     * @param runningMean running mean (C)
     * @param runningVar running variance (C)
     * @param eps added to the variance
     */
    default void batchNormAddReluForwardInference(Tensor y, Tensor x, Tensor shortcut, Tensor gamma, Tensor beta,
            Tensor runningMean, Tensor runningVar, float eps) {
        batchNormForwardInference(y, x, gamma, beta, runningMean, runningVar, eps);
        add(y, y, shortcut);
        activationForward(Activation.RELU, y, y);
    }

    // ---- losses: forward and gradient fused ---------------------------------------------

    /**
     * Softmax cross-entropy, mean over the batch: loss = −(1/N) Σ_n log softmax(z)[n, label_n];
     * dz = (softmax(z) − onehot(label)) / N.
     *
     * @param loss output (1)
     * @param dz output gradient (N, classes), or null to skip it
     * @param z logits (N, classes)
     * @param labels class indices (N), whole numbers stored as floats
     * @throws IllegalArgumentException when z holds NaN or a label is out of range (where the
     *     backend can see it without waiting for the device)
     */
    void softmaxCrossEntropy(Tensor loss, Tensor dz, Tensor z, Tensor labels);

    /**
     * Mean squared error: loss = mean((p − t)²) over all elements; dp = 2(p − t)/size.
     *
     * @param loss output (1)
     * @param dp output gradient, the shape of p, or null to skip it
     * @param p predictions of any shape
     * @param t targets, the shape of p
     */
    void meanSquaredError(Tensor loss, Tensor dp, Tensor p, Tensor t);

    /**
     * Multi-class hinge (PyTorch MultiMarginLoss, margin 1): loss = (1/N) Σ_n Σ_{j≠y_n}
     * max(0, 1 − z[n,y_n] + z[n,j]) / classes; dz its gradient.
     *
     * @param loss output (1)
     * @param dz output gradient (N, classes), or null to skip it
     * @param z scores (N, classes)
     * @param labels class indices (N), whole numbers stored as floats
     */
    void hingeLoss(Tensor loss, Tensor dz, Tensor z, Tensor labels);

    // ---- dropout (Philox4x32-10; identical masks on every backend, see docs/design.md) ---

    /**
     * Inverted dropout: y[i] = keep ? x[i] · (1 / (1 − p)) : 0, with keep decided by {@link Philox}
     * for element offset + i from (seed, stream, step); the mask is the same on every backend.
     *
     * @param y output, the shape of x; may be x
     * @param x input of any shape
     * @param p drop probability, 0 ≤ p &lt; 1
     * @param seed the run's seed
     * @param stream one per dropout layer, so layers draw independent masks
     * @param step the training step, so each step draws a new mask
     * @param offset the index of x's first element in the whole batch: 0 for a batch run at
     *     once, (first sample) · (elements per sample) for a shard of it, so shards split across
     *     threads or machines draw exactly the mask of the unsplit batch; 0 ≤ offset ≤ 2^62 − size
     */
    void dropoutForward(Tensor y, Tensor x, float p, long seed, int stream, int step, long offset);

    /**
     * dx = keep ? dy · (1 / (1 − p)) : 0 with the mask of the forward call with the same arguments.
     *
     * @param dx output, the shape of dy; may be dy
     * @param dy gradient of the output
     * @param p as in the forward call
     * @param seed as in the forward call
     * @param stream as in the forward call
     * @param step as in the forward call
     * @param offset as in the forward call
     */
    void dropoutBackward(Tensor dx, Tensor dy, float p, long seed, int stream, int step, long offset);

    // ---- optimizer updates, in place ----------------------------------------------------

    /**
     * One SGD step on w, in place, as {@link SgdParams} writes it.
     *
     * @param w the parameter, updated
     * @param dw its gradient, the shape of w
     * @param velocity the momentum buffer, the shape of w, updated; may be null when momentum is 0
     * @param params learning rate, momentum, weight decay, Nesterov
     */
    void sgdUpdate(Tensor w, Tensor dw, Tensor velocity, SgdParams params);

    /**
     * One Adam or AdamW step on w, in place, as {@link AdamParams} writes it.
     *
     * @param w the parameter, updated
     * @param dw its gradient, the shape of w
     * @param m the first moment, the shape of w, updated
     * @param v the second moment, the shape of w, updated
     * @param params learning rate, betas, eps, weight decay, the step number
     */
    void adamUpdate(Tensor w, Tensor dw, Tensor m, Tensor v, AdamParams params);

    // ---- merges of graph models ---------------------------------------------------------

    /**
     * y = x₀ ‖ x₁ ‖ … along dimension 1 (the channels of (N, C, H, W), the features of (N, F)):
     * y[n, offset_i + c, ...] = x_i[n, c, ...]. Every x_i: (N, C_i, rest...) with the same N and
     * rest.
     *
     * @param y output (N, Σ C_i, rest...)
     * @param xs the inputs in order, at least one
     */
    void concatForward(Tensor y, List<Tensor> xs);

    /**
     * The slices of dy that concatForward filled from each input: dx_i[n, c, ...] =
     * dy[n, offset_i + c, ...], where input i had {@code channels[i]} channels (Σ = dy's dimension
     * 1); a null dx_i is skipped.
     *
     * @param dxs outputs, one per input: (N, channels[i], rest...), or null to skip that input
     * @param dy gradient of the output (N, Σ channels, rest...)
     * @param channels each input's size along dimension 1, one per dx
     */
    void concatBackward(List<Tensor> dxs, Tensor dy, int[] channels);

    // ---- small helpers ------------------------------------------------------------------

    /**
     * y = a + b, elementwise.
     *
     * @param y output, the shape of a; may be a or b
     * @param a first input
     * @param b second input, the shape of a
     */
    void add(Tensor y, Tensor a, Tensor b);

    /**
     * y = alpha·x, elementwise.
     *
     * @param y output, the shape of x; may be x
     * @param x input
     * @param alpha the factor
     */
    void scale(Tensor y, Tensor x, float alpha);

    /**
     * y += alpha·x, elementwise.
     *
     * @param y the tensor added to
     * @param alpha the factor
     * @param x input, the shape of y
     */
    void axpy(Tensor y, float alpha, Tensor x);

    /**
     * out[n] = the index of the largest x[n, i] over the features of item n (the first one on
     * ties), as a float.
     *
     * @param out output (N)
     * @param x input (N, ...)
     */
    void argmax(Tensor out, Tensor x);

    /**
     * out[0] = Σ x over all elements.
     *
     * @param out output (1)
     * @param x input of any shape
     */
    void sum(Tensor out, Tensor x);

    /** Releases every resource of the backend; tensors it made must not be used afterwards. */
    @Override
    void close();
}
