package dev.receptive.nn;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Inference on one {@link Model} from any number of threads at once, as a server needs it. Get it
 * from {@link Model#predictor()}; for many single items from many threads, a
 * {@link BatchingPredictor} groups them into shared forward passes.
 *
 * <p>Each call runs in an inference workspace (no gradient tensors) of a <em>bucket</em>: a batch
 * size that is a power of two, up to {@link #MAX_BUCKET}. A request of 5 items runs in the bucket
 * of 8, padded with zeros (on the CPU the results are the same bits as a pass of 5: every op
 * computes each item on its own); a larger request runs in passes of the largest bucket. Each
 * call borrows an idle workspace of its bucket or makes one, and no lock is held around the
 * forward pass.
 *
 * <p>The workspaces' memory is bounded by a budget ({@link #memoryBudget()}): by default a
 * quarter of the backend's free memory when the predictor is made, at most
 * {@link #DEFAULT_MAX_BUDGET} bytes. Workspaces in use and idle ones count; when a new one would
 * go over, the least recently used idle ones are closed, and when the workspaces in use alone
 * fill the budget the call waits for one to come back (a forward pass later). One workspace is
 * always allowed, however large, so every call can run; the largest bucket is the largest that
 * fits the budget. {@link #trim()} closes every idle workspace.
 *
 * <p>Inputs are already normalized items of the model's input shape (see {@link ModelInfo} for
 * how training normalized them). While a training step holds the model
 * ({@link Model#beginTraining()}) predictions are refused.
 */
public final class Predictor {
    /** The largest batch one forward pass runs. */
    public static final int MAX_BUCKET = 256;
    /** The default budget's ceiling: 1 GiB. */
    public static final long DEFAULT_MAX_BUDGET = 1L << 30;

    private final Model model;
    private final int itemSize;
    private final int outputSize;
    private final boolean endsInSoftmax;
    private final long[] bucketBytes;
    /** Guards everything below: the idle workspaces, the bytes of all live ones, the budget. */
    private final Object lock = new Object();
    /** Idle workspaces by bucket (index log2), most recently used first. */
    private final ArrayDeque<Workspace>[] idle;
    /** Every idle workspace, least recently used first: the order of trimming. */
    private final ArrayDeque<Workspace> idleByAge = new ArrayDeque<>();
    private long liveBytes;
    private long budget;
    private boolean closed;

    @SuppressWarnings("unchecked")
    Predictor(Model model) {
        this.model = model;
        this.itemSize = model.inputShape().size();
        this.outputSize = model.outputShape().size();
        Node last = model.nodes().get(model.nodes().size() - 1);
        this.endsInSoftmax = last.layer() instanceof Softmax;
        int buckets = Integer.numberOfTrailingZeros(MAX_BUCKET) + 1;
        this.bucketBytes = new long[buckets];
        this.idle = new ArrayDeque[buckets];
        for (int b = 0; b < buckets; b++) {
            bucketBytes[b] = Workspace.inferenceBytes(model, 1 << b);
            idle[b] = new ArrayDeque<>();
        }
        this.budget = Math.min(DEFAULT_MAX_BUDGET, Math.max(0, model.backend().freeMemory()) / 4);
    }

    /**
     * The model's raw outputs for a batch: {@code batch} holds N whole items (N · input size
     * values); returns N · output size values, item after item.
     *
     * @param batch N ≥ 1 items of the model's input shape, one after another, already normalized
     * @return a new array of the N items' outputs
     * @throws IllegalArgumentException when the values are not whole items
     * @throws IllegalStateException when the model is closed, held for training, or the thread is
     *     interrupted while waiting for workspace memory
     */
    public float[] outputs(float[] batch) {
        if (batch.length == 0 || batch.length % itemSize != 0) {
            throw new IllegalArgumentException("predictor: " + batch.length + " values are not whole items of "
                    + model.inputShape() + " (" + itemSize + " values each)");
        }
        int n = batch.length / itemSize;
        float[] out = new float[n * outputSize];
        model.beginPrediction();
        try {
            int largest = 1 << largestBucket();
            for (int from = 0; from < n; from += largest) {
                run(batch, from, Math.min(largest, n - from), out);
            }
        } finally {
            model.endPrediction();
        }
        return out;
    }

    /** Runs items [from, from + count) in the smallest bucket that holds them; writes their outputs into out. */
    private void run(float[] batch, int from, int count, float[] out) {
        int bucket = 32 - Integer.numberOfLeadingZeros(count - 1); // ceil(log2(count))
        int size = 1 << bucket;
        float[] x = batch;
        if (size != count || from != 0 || batch.length != count * itemSize) {
            x = new float[size * itemSize]; // zeros pad the bucket
            System.arraycopy(batch, from * itemSize, x, 0, count * itemSize);
        }
        Workspace ws = acquire(bucket);
        boolean ok = false;
        try {
            boolean whole = x == batch && out.length == size * outputSize;
            float[] y = whole ? out : new float[size * outputSize];
            model.backend().download(ws.forward(x, Pass.EVAL), y);
            if (!whole) {
                System.arraycopy(y, 0, out, from * outputSize, count * outputSize);
            }
            ok = true;
        } finally {
            release(bucket, ws, ok);
        }
    }

    /** An idle workspace of the bucket, or a new one once the budget allows it. */
    private Workspace acquire(int bucket) {
        long need = bucketBytes[bucket];
        synchronized (lock) {
            while (true) {
                if (closed) {
                    model.checkOpen();
                    throw new IllegalStateException("predictor: it is closed");
                }
                Workspace ws = idle[bucket].pollFirst();
                if (ws != null) {
                    idleByAge.remove(ws);
                    return ws;
                }
                while (liveBytes + need > budget && !idleByAge.isEmpty()) {
                    closeIdle(idleByAge.pollFirst());
                }
                if (liveBytes + need <= budget || liveBytes == 0) {
                    liveBytes += need;
                    break;
                }
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("predictor: interrupted while waiting for workspace memory", e);
                }
            }
        }
        try {
            return model.newInferenceWorkspace();
        } catch (RuntimeException | Error e) {
            synchronized (lock) {
                liveBytes -= need;
                lock.notifyAll();
            }
            throw e;
        }
    }

    /** Keeps the workspace for the next call, unless it failed or the budget has no room for it now. */
    private void release(int bucket, Workspace ws, boolean ok) {
        synchronized (lock) {
            if (ok && !closed && !model.isClosed() && liveBytes <= budget) {
                idle[bucket].addFirst(ws);
                idleByAge.addLast(ws);
            } else {
                ws.close();
                liveBytes -= bucketBytes[bucket];
            }
            lock.notifyAll();
        }
    }

    /** Closes an idle workspace (already taken off the age list). Holds the lock. */
    private void closeIdle(Workspace ws) {
        for (int b = 0; b < idle.length; b++) {
            if (idle[b].remove(ws)) {
                ws.close();
                liveBytes -= bucketBytes[b];
                return;
            }
        }
    }

    /** The log2 of the largest bucket whose workspace fits the budget (0 when none does). */
    private int largestBucket() {
        synchronized (lock) {
            int b = idle.length - 1;
            while (b > 0 && bucketBytes[b] > budget) {
                b--;
            }
            return b;
        }
    }

    /**
     * Class probabilities of one item: the softmax of the model's outputs (or the outputs as they
     * are when the model ends in a {@link Softmax} layer).
     *
     * @param item the input-size values of exactly one item (for several, use {@link #probabilities(float[][])})
     * @return one probability per class, summing to 1
     * @throws IllegalArgumentException when the values are not exactly one item
     * @throws IllegalStateException when the model is closed or held for training, or an output is not a number
     */
    public float[] probabilities(float[] item) {
        float[] out = outputs(one(item));
        toProbabilities(out, 0, 0);
        return out;
    }

    /**
     * Class probabilities of each item of a batch, as {@link #probabilities(float[])}, in one forward pass.
     *
     * @param items at least one item, each of the input size
     * @return one probability array per item, in order
     * @throws IllegalArgumentException naming the first item whose size is wrong
     * @throws IllegalStateException when the model is closed or held for training, or an output is not a number
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
            toProbabilities(out, i * outputSize, i);
            result[i] = Arrays.copyOfRange(out, i * outputSize, (i + 1) * outputSize);
        }
        return result;
    }

    /**
     * The most probable class of one item (the first on ties).
     *
     * @param item the input-size values of exactly one item
     * @return the index of the largest output
     * @throws IllegalArgumentException when the values are not exactly one item
     * @throws IllegalStateException when the model is closed or held for training
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

    /**
     * {@return the memory budget of the workspaces, in bytes}
     */
    public long memoryBudget() {
        synchronized (lock) {
            return budget;
        }
    }

    /**
     * Sets the memory budget of the workspaces and closes idle ones until they fit it (workspaces
     * in use are closed when they come back, if they do not fit). The largest pass is then the
     * largest bucket that fits: a budget below one workspace of {@link #MAX_BUCKET} items makes
     * large requests run in several passes.
     *
     * @param bytes the budget, ≥ 0; one smaller than a workspace of one item lets one call run at a time
     * @throws IllegalArgumentException when bytes &lt; 0
     */
    public void setMemoryBudget(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("predictor: the memory budget must be >= 0 bytes, got " + bytes);
        }
        synchronized (lock) {
            budget = bytes;
            while (liveBytes > budget && !idleByAge.isEmpty()) {
                closeIdle(idleByAge.pollFirst());
            }
            lock.notifyAll();
        }
    }

    /** {@return the bytes of every workspace the predictor holds now, idle or in use} */
    public long workspaceBytes() {
        synchronized (lock) {
            return liveBytes;
        }
    }

    /** {@return the bytes of one workspace of a bucket: what a pass of {@code items} items costs} */
    long bucketBytes(int items) {
        return bucketBytes[32 - Integer.numberOfLeadingZeros(items - 1)];
    }

    /** Closes every idle workspace, such as after a burst of large batches; workspaces in use stay. */
    public void trim() {
        synchronized (lock) {
            while (!idleByAge.isEmpty()) {
                closeIdle(idleByAge.pollFirst());
            }
        }
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

    /** Softmax of one item's outputs at out[from, from + output size), in place, unless the model ends in one. */
    void toProbabilities(float[] out, int from, int item) {
        if (!endsInSoftmax) {
            softmax(out, from, outputSize);
        }
        checkFinite(out, from, outputSize, item);
    }

    /** A NaN probability is never a result: the input or the weights are broken. */
    private static void checkFinite(float[] p, int from, int n, int item) {
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

    /** Closes every idle workspace and refuses further calls; called by {@link Model#close()}. */
    void close() {
        synchronized (lock) {
            closed = true;
            trim();
            lock.notifyAll();
        }
    }
}
