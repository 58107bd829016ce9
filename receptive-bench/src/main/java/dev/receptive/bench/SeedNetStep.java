package dev.receptive.bench;

import dev.receptive.backend.Activation;
import dev.receptive.backend.AdamParams;
import dev.receptive.backend.Backend;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One training step of workload W1, the seed network (TensorFlow's Deep-MNIST CNN), written
 * directly on Backend ops: conv5×5×32 pad 2 + ReLU → maxpool 2 → conv5×5×64 pad 2 + ReLU →
 * maxpool 2 → dense 1024 + ReLU → dropout 0.5 → dense 10 → softmax cross-entropy → Adam.
 * It measures the engine without the layer API on top, and lets two backends run the same
 * steps in lock-step. Every tensor is allocated once.
 */
public final class SeedNetStep implements AutoCloseable {
    /** Forward multiply-adds per image, times 2: conv1 + conv2 + dense1 + dense2. */
    public static final double FORWARD_FLOP = 2.0 * (28 * 28 * 32 * 25 + 14 * 14 * 64 * 32 * 25 + 3136 * 1024 + 1024 * 10);
    /** Forward plus the backward ops (conv1 needs no data gradient). */
    public static final double TRAIN_FLOP = 3 * FORWARD_FLOP - 2.0 * 28 * 28 * 32 * 25;

    private static final Conv2dParams SAME5 = Conv2dParams.of(1, 2, 1);
    private static final Pool2dParams POOL2 = Pool2dParams.of(2, 2, 0);
    private static final float DROP = 0.5f;

    private final Backend b;
    private final int batch;
    private final long seed;
    private final List<Tensor> all = new ArrayList<>();
    private final Tensor w1, b1, w2, b2, w3, b3, w4, b4;
    private final Tensor[] params;
    private final Tensor[] grads;
    private final Tensor[] m;
    private final Tensor[] v;
    private final Tensor x, labels, a1, p1, a2, p2, h, hd, z, loss;
    private final Tensor dz, dhd, dh, dp2, da2, dp1, da1;
    private int step;

    public SeedNetStep(Backend backend, int batch, long seed) {
        this.b = backend;
        this.batch = batch;
        this.seed = seed;
        SplittableRandom rnd = new SplittableRandom(seed);
        w1 = he(rnd, 32, 1, 5, 5);
        b1 = make(32);
        w2 = he(rnd, 64, 32, 5, 5);
        b2 = make(64);
        w3 = he(rnd, 1024, 3136);
        b3 = make(1024);
        w4 = he(rnd, 10, 1024);
        b4 = make(10);
        params = new Tensor[] {w1, b1, w2, b2, w3, b3, w4, b4};
        grads = new Tensor[params.length];
        m = new Tensor[params.length];
        v = new Tensor[params.length];
        for (int i = 0; i < params.length; i++) {
            Shape s = params[i].shape();
            grads[i] = make(s.dims());
            m[i] = make(s.dims());
            v[i] = make(s.dims());
        }
        x = make(batch, 1, 28, 28);
        labels = make(batch);
        a1 = make(batch, 32, 28, 28);
        p1 = make(batch, 32, 14, 14);
        a2 = make(batch, 64, 14, 14);
        p2 = make(batch, 64, 7, 7);
        h = make(batch, 1024);
        hd = make(batch, 1024);
        z = make(batch, 10);
        loss = make(1);
        dz = make(batch, 10);
        dhd = make(batch, 1024);
        dh = make(batch, 1024);
        dp2 = make(batch, 64, 7, 7);
        da2 = make(batch, 64, 14, 14);
        dp1 = make(batch, 32, 14, 14);
        da1 = make(batch, 32, 28, 28);
    }

    private Tensor make(int... dims) {
        Tensor t = b.allocate(Shape.of(dims));
        all.add(t);
        return t;
    }

    private Tensor he(SplittableRandom rnd, int... dims) {
        Shape s = Shape.of(dims);
        double std = Math.sqrt(2.0 / s.sizePerItem());
        float[] w = new float[s.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (gaussian(rnd) * std);
        }
        Tensor t = b.upload(w, s);
        all.add(t);
        return t;
    }

    private static double gaussian(SplittableRandom rnd) {
        // Box-Muller: SplittableRandom has no nextGaussian on Java 17.
        return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }

    public int batch() {
        return batch;
    }

    /** Loads a batch: images (batch·784 values) and labels (batch values, whole numbers 0..9). */
    public void setBatch(float[] images, float[] labelValues) {
        b.upload(x, images);
        b.upload(labels, labelValues);
    }

    /** Forward, loss, backward and one Adam step; the loss stays on the device. */
    public void trainStep(float lr) {
        step++;
        // forward; x: (N, 1, 28, 28)
        b.conv2dForward(a1, x, w1, b1, SAME5);
        b.activationForward(Activation.RELU, a1, a1);
        b.pool2dForward(PoolMode.MAX, p1, a1, POOL2);
        b.conv2dForward(a2, p1, w2, b2, SAME5);
        b.activationForward(Activation.RELU, a2, a2);
        b.pool2dForward(PoolMode.MAX, p2, a2, POOL2);
        b.denseForward(h, p2, w3, b3);
        b.activationForward(Activation.RELU, h, h);
        b.dropoutForward(hd, h, DROP, seed, 0, step, 0);
        b.denseForward(z, hd, w4, b4);
        b.softmaxCrossEntropy(loss, dz, z, labels);
        // backward
        b.denseBackward(dhd, grads[6], grads[7], dz, hd, w4, false);
        b.dropoutBackward(dh, dhd, DROP, seed, 0, step, 0);
        b.activationBackward(Activation.RELU, dh, dh, h);
        b.denseBackward(dp2, grads[4], grads[5], dh, p2, w3, false);
        b.pool2dBackward(PoolMode.MAX, da2, dp2, a2, p2, POOL2);
        b.activationBackward(Activation.RELU, da2, da2, a2);
        b.conv2dBackwardData(dp1, da2, w2, SAME5);
        b.conv2dBackwardFilter(grads[2], p1, da2, SAME5, false);
        b.conv2dBackwardBias(grads[3], da2, false);
        b.pool2dBackward(PoolMode.MAX, da1, dp1, a1, p1, POOL2);
        b.activationBackward(Activation.RELU, da1, da1, a1);
        b.conv2dBackwardFilter(grads[0], x, da1, SAME5, false);
        b.conv2dBackwardBias(grads[1], da1, false);
        // Adam
        AdamParams adam = new AdamParams(lr, 0.9f, 0.999f, 1e-8f, 0f, false, step);
        for (int i = 0; i < params.length; i++) {
            b.adamUpdate(params[i], grads[i], m[i], v[i], adam);
        }
    }

    /** Forward only, as in inference: no dropout; the logits stay on the device. */
    public void inferStep() {
        b.conv2dForward(a1, x, w1, b1, SAME5);
        b.activationForward(Activation.RELU, a1, a1);
        b.pool2dForward(PoolMode.MAX, p1, a1, POOL2);
        b.conv2dForward(a2, p1, w2, b2, SAME5);
        b.activationForward(Activation.RELU, a2, a2);
        b.pool2dForward(PoolMode.MAX, p2, a2, POOL2);
        b.denseForward(h, p2, w3, b3);
        b.activationForward(Activation.RELU, h, h);
        b.denseForward(z, h, w4, b4);
    }

    /** The logits of the last step, (batch, 10) row by row (waits for the device). */
    public float[] logits() {
        return b.download(z);
    }

    /** The loss of the last step (waits for the device). */
    public float loss() {
        return b.download(loss)[0];
    }

    /** The current weights and biases, in the order w1, b1, w2, b2, w3, b3, w4, b4. */
    public List<float[]> parameters() {
        List<float[]> out = new ArrayList<>();
        for (Tensor p : params) {
            out.add(b.download(p));
        }
        return out;
    }

    public Backend backend() {
        return b;
    }

    /** Tensors owned by the step, for the conv-only benchmarks. */
    Tensor input() {
        return x;
    }

    @Override
    public void close() {
        for (int i = all.size() - 1; i >= 0; i--) {
            all.get(i).close();
        }
    }
}
