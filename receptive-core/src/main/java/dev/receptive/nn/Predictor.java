package dev.receptive.nn;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Inference on one {@link Model} from any number of threads at once, as a server needs it. Each
 * call borrows a {@link Workspace} from a pool (one per concurrent call and batch size, made on
 * demand and kept for the next call), runs an evaluation pass and copies the result out; no lock
 * is held around the forward pass. Get it from {@link Model#predictor()}.
 *
 * <p>Inputs are already normalized items of the model's input shape (see {@link ModelInfo} for
 * how training normalized them). The model's weights must not change while predictions run.
 */
public final class Predictor {
    private final Model model;
    private final Map<Integer, ConcurrentLinkedDeque<Workspace>> idle = new ConcurrentHashMap<>();
    private final int itemSize;
    private final int outputSize;
    private final boolean endsInSoftmax;

    Predictor(Model model) {
        this.model = model;
        this.itemSize = model.inputShape().size();
        this.outputSize = model.outputShape().size();
        Node last = model.nodes().get(model.nodes().size() - 1);
        this.endsInSoftmax = last.layer() instanceof Softmax;
    }

    /**
     * The model's raw outputs for a batch: {@code batch} holds N whole items (N · input size
     * values); returns N · output size values, item after item.
     *
     * @param batch N ≥ 1 items of the model's input shape, one after another, already normalized
     * @return a new array of the N items' outputs
     * @throws IllegalArgumentException when the values are not whole items
     * @throws IllegalStateException when the model is closed
     */
    public float[] outputs(float[] batch) {
        if (batch.length == 0 || batch.length % itemSize != 0) {
            throw new IllegalArgumentException("predictor: " + batch.length + " values are not whole items of "
                    + model.inputShape() + " (" + itemSize + " values each)");
        }
        int n = batch.length / itemSize;
        ConcurrentLinkedDeque<Workspace> pool = idle.computeIfAbsent(n, k -> new ConcurrentLinkedDeque<>());
        Workspace ws = pool.pollFirst();
        if (ws == null) {
            ws = model.newWorkspace();
        }
        boolean ok = false;
        try {
            float[] out = new float[n * outputSize];
            model.backend().download(ws.forward(batch, Pass.EVAL), out);
            ok = true;
            return out;
        } finally {
            if (ok && !model.isClosed()) {
                pool.offerFirst(ws);
            } else {
                ws.close();
            }
        }
    }

    /**
     * Class probabilities of one item: the softmax of the model's outputs (or the outputs as they
     * are when the model ends in a {@link Softmax} layer).
     *
     * @param item the input-size values of exactly one item (for several, use {@link #probabilities(float[][])})
     * @return one probability per class, summing to 1
     * @throws IllegalArgumentException when the values are not exactly one item
     * @throws IllegalStateException when the model is closed or an output is not a number
     */
    public float[] probabilities(float[] item) {
        float[] out = outputs(one(item));
        if (!endsInSoftmax) {
            softmax(out, 0, out.length);
        }
        checkFinite(out, 0, out.length, 0);
        return out;
    }

    /**
     * Class probabilities of each item of a batch, as {@link #probabilities(float[])}, in one forward pass.
     *
     * @param items at least one item, each of the input size
     * @return one probability array per item, in order
     * @throws IllegalArgumentException naming the first item whose size is wrong
     * @throws IllegalStateException when the model is closed or an output is not a number
     */
    public float[][] probabilities(float[][] items) {
        float[] batch = new float[items.length * itemSize];
        for (int i = 0; i < items.length; i++) {
            if (items[i].length != itemSize) {
                throw new IllegalArgumentException("predictor: item " + i + " has " + items[i].length
                        + " values; the model's input " + model.inputShape() + " takes " + itemSize);
            }
            System.arraycopy(items[i], 0, batch, i * itemSize, itemSize);
        }
        float[] out = outputs(batch);
        float[][] result = new float[items.length][];
        for (int i = 0; i < items.length; i++) {
            if (!endsInSoftmax) {
                softmax(out, i * outputSize, outputSize);
            }
            checkFinite(out, i * outputSize, outputSize, i);
            result[i] = java.util.Arrays.copyOfRange(out, i * outputSize, (i + 1) * outputSize);
        }
        return result;
    }

    /**
     * The most probable class of one item (the first on ties).
     *
     * @param item the input-size values of exactly one item
     * @return the index of the largest output
     * @throws IllegalArgumentException when the values are not exactly one item
     * @throws IllegalStateException when the model is closed
     */
    public int predictClass(float[] item) {
        float[] out = outputs(one(item));
        int best = 0;
        for (int i = 1; i < out.length; i++) {
            if (out[i] > out[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The item, when it is exactly one: two items' values would be normalized, or ranked, together. */
    private float[] one(float[] item) {
        if (item.length != itemSize) {
            throw new IllegalArgumentException("predictor: one item of " + model.inputShape() + " is " + itemSize
                    + " values, got " + item.length + (item.length > itemSize && item.length % itemSize == 0
                    ? " (several items: pass them as float[][] to probabilities)" : ""));
        }
        return item;
    }

    /** A NaN probability is never a result: the input or the weights are broken. */
    private void checkFinite(float[] p, int from, int n, int item) {
        for (int i = from; i < from + n; i++) {
            if (!Float.isFinite(p[i])) {
                throw new IllegalStateException("predictor: the model's output for item " + item + " is not a number ("
                        + p[i] + " for class " + (i - from) + "); check the input for NaN or infinite values");
            }
        }
    }

    /** Softmax in place over a[from, from + n), in double, shifted by the maximum. */
    private static void softmax(float[] a, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = from; i < from + n; i++) {
            max = Math.max(max, a[i]);
        }
        double sum = 0;
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            e[i] = Math.exp(a[from + i] - max);
            sum += e[i];
        }
        for (int i = 0; i < n; i++) {
            a[from + i] = (float) (e[i] / sum);
        }
    }

    /** Closes every pooled workspace; called by {@link Model#close()}. */
    void close() {
        for (ConcurrentLinkedDeque<Workspace> pool : idle.values()) {
            Workspace ws;
            while ((ws = pool.pollFirst()) != null) {
                ws.close();
            }
        }
    }
}
