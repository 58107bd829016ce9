package dev.receptive.nn;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.IntConsumer;

/**
 * Dynamic batching (Triton's dynamic batcher, TorchServe's batch size and delay): single items
 * submitted from any number of threads are grouped into one forward pass of the model's
 * {@link Predictor}, up to a maximum batch and a maximum delay. A batch closes when it is full or
 * when its first item has waited the maximum delay; items that arrive while a pass runs wait for
 * the next, so under load batches fill without any delay. A batch waits for company only until it
 * holds as many items as the pass before it (callers that got their answers tend to come back);
 * past that it takes what is already queued and runs. So a lone caller's items run at once, and
 * 16 callers are not held the whole delay for a batch of 32 that cannot fill.
 *
 * <pre>
 * try (BatchingPredictor batcher = BatchingPredictor.builder(model).optMaxBatch(32).build()) {
 *     CompletableFuture&lt;float[]&gt; p = batcher.submit(image);   // or batcher.probabilities(image)
 * }
 * </pre>
 *
 * <p>Each item is checked when it is submitted (its size, and every value finite), so a bad item
 * fails alone and never joins a batch. The queue is bounded: an item that finds it full is refused
 * at once with a {@link RejectedExecutionException}, never queued without bound. Each item's
 * probabilities are those of {@link Predictor#probabilities(float[])} for it alone, on the CPU bit
 * for bit (the predictor pads batches, and every CPU op computes each item on its own). A failing
 * pass fails the futures of its items only. {@link #close()} stops taking items, finishes every
 * item already queued and returns.
 *
 * <p>The futures complete on a batching thread: give dependent actions an executor of their own
 * ({@code thenApplyAsync}) when they do more than a little work. Thread-safe.
 */
public final class BatchingPredictor implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(BatchingPredictor.class.getName());
    /** How often an idle batching thread looks whether the batcher is closing. */
    private static final long IDLE_POLL_MS = 50;
    private static final AtomicInteger BATCHERS = new AtomicInteger();

    private final Model model;
    private final Predictor predictor;
    private final int itemSize;
    private final int outputSize;
    private final int maxBatch;
    private final long maxDelayNanos;
    private final int queueLimit;
    private final IntConsumer onBatch;
    private final ArrayBlockingQueue<Pending> queue;
    /** Submissions hold it shared; close takes it alone, so no item is queued after the threads have drained. */
    private final ReadWriteLock closing = new ReentrantReadWriteLock();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean closed;

    /** An item and its answer. */
    private record Pending(float[] item, long queuedAt, CompletableFuture<float[]> result) {
    }

    private BatchingPredictor(Builder b) {
        this.model = b.model;
        this.predictor = b.model.predictor();
        this.itemSize = b.model.inputShape().size();
        this.outputSize = b.model.outputShape().size();
        this.maxBatch = b.maxBatch;
        this.maxDelayNanos = b.maxDelay.toNanos();
        this.queueLimit = b.queueLimit;
        this.onBatch = b.onBatch;
        this.queue = new ArrayBlockingQueue<>(b.queueLimit);
        int id = BATCHERS.incrementAndGet();
        for (int t = 0; t < b.threads; t++) {
            Thread thread = new Thread(this::loop, "receptive-batcher-" + id + "-" + t);
            thread.setDaemon(true);
            threads.add(thread);
        }
        threads.forEach(Thread::start);
    }

    /**
     * {@return a builder of a batching predictor over {@code model}'s predictor}
     *
     * @param model the model, not null; the batcher borrows it and must be closed before it
     * @throws IllegalArgumentException when model is null
     */
    public static Builder builder(Model model) {
        if (model == null) {
            throw new IllegalArgumentException("BatchingPredictor: model must not be null");
        }
        return new Builder(model);
    }

    /**
     * Queues one item for the next batch.
     *
     * @param item the input-size values of one item, already normalized; copied, so the caller may reuse it
     * @return the item's class probabilities, when its batch has run; failed with an
     *     {@link IllegalStateException} when the pass failed (a closed model, one held for training,
     *     an output that is not a number)
     * @throws IllegalArgumentException when the item is not one item of the input shape or holds a NaN or infinity
     * @throws RejectedExecutionException when the queue already holds the queue limit's items
     * @throws IllegalStateException when the batcher is closed
     */
    public CompletableFuture<float[]> submit(float[] item) {
        float[] copy = checked(item);
        CompletableFuture<float[]> result = new CompletableFuture<>();
        closing.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("BatchingPredictor: it is closed");
            }
            if (!queue.offer(new Pending(copy, System.nanoTime(), result))) {
                throw new RejectedExecutionException("BatchingPredictor: the queue is full (" + queueLimit
                        + " items wait); try again later");
            }
        } finally {
            closing.readLock().unlock();
        }
        return result;
    }

    /**
     * The class probabilities of one item, waiting for its batch: {@link #submit} and its answer.
     *
     * @param item the input-size values of one item, already normalized
     * @return one probability per class
     * @throws IllegalArgumentException when the item is not one item of the input shape or holds a NaN or infinity
     * @throws RejectedExecutionException when the queue is full
     * @throws IllegalStateException when the batcher is closed, the pass failed, or the thread was interrupted
     */
    public float[] probabilities(float[] item) {
        CompletableFuture<float[]> result = submit(item);
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("BatchingPredictor: interrupted while waiting for a prediction", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new CompletionException(cause);
        }
    }

    /** {@return how many items wait for a batch now} */
    public int queueDepth() {
        return queue.size();
    }

    /** {@return the model it predicts with} */
    public Model model() {
        return model;
    }

    /** {@return the most items in one forward pass} */
    public int maxBatch() {
        return maxBatch;
    }

    private float[] checked(float[] item) {
        if (item == null || item.length != itemSize) {
            throw new IllegalArgumentException("BatchingPredictor: one item of " + model.inputShape() + " is "
                    + itemSize + " values, got " + (item == null ? "null" : item.length));
        }
        for (int i = 0; i < item.length; i++) {
            if (!Float.isFinite(item[i])) {
                throw new IllegalArgumentException("BatchingPredictor: value " + i + " of the item is " + item[i]
                        + "; inputs must be finite numbers");
            }
        }
        return item.clone();
    }

    /** One batching thread: gather a batch, run it, answer its items; after close, drain the queue and stop. */
    private void loop() {
        List<Pending> batch = new ArrayList<>(maxBatch);
        int lastBatch = 0;
        while (true) {
            Pending first;
            try {
                first = queue.poll(IDLE_POLL_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                first = queue.poll();
            }
            if (first == null) {
                if (closed && queue.isEmpty()) {
                    return;
                }
                continue;
            }
            batch.add(first);
            // Wait for as many items as the last pass held (clients that got their answers tend to
            // come back), at most the delay; past that, take only what is already queued. A lone
            // caller (a last pass of one item) is never held back, and 16 callers are not held
            // for a batch of 32 that cannot fill.
            gather(batch, lastBatch, first.queuedAt() + maxDelayNanos);
            lastBatch = batch.size();
            run(batch);
            batch.clear();
        }
    }

    /**
     * Adds queued items to the batch until it is full: waiting, until the deadline, while it holds
     * fewer than {@code expected} items; after that, only while items are already queued.
     */
    private void gather(List<Pending> batch, int expected, long deadline) {
        while (batch.size() < maxBatch) {
            Pending next = queue.poll();
            if (next == null) {
                long wait = deadline - System.nanoTime();
                if (batch.size() >= expected || wait <= 0 || closed) {
                    return;
                }
                try {
                    next = queue.poll(wait, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    return;
                }
                if (next == null) {
                    return;
                }
            }
            batch.add(next);
        }
    }

    private void run(List<Pending> batch) {
        int n = batch.size();
        float[] out;
        try {
            float[] x = new float[n * itemSize];
            for (int i = 0; i < n; i++) {
                System.arraycopy(batch.get(i).item(), 0, x, i * itemSize, itemSize);
            }
            out = predictor.outputs(x);
        } catch (RuntimeException | Error e) {
            for (Pending p : batch) {
                p.result().completeExceptionally(e);
            }
            if (e instanceof Error) {
                LOG.log(System.Logger.Level.ERROR, "BatchingPredictor: a pass of " + n + " items failed", e);
            }
            return;
        }
        if (onBatch != null) {
            try {
                onBatch.accept(n);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "BatchingPredictor: the batch listener failed", e);
            }
        }
        for (int i = 0; i < n; i++) {
            try {
                predictor.toProbabilities(out, i * outputSize, 0);
                batch.get(i).result().complete(Arrays.copyOfRange(out, i * outputSize, (i + 1) * outputSize));
            } catch (RuntimeException e) {
                batch.get(i).result().completeExceptionally(e);
            }
        }
    }

    /**
     * Stops taking items, lets the batching threads answer every item already queued (their
     * passes fail, and so their futures, when the model was closed first) and waits for them.
     */
    @Override
    public void close() {
        closing.writeLock().lock();
        try {
            closed = true;
        } finally {
            closing.writeLock().unlock();
        }
        boolean interrupted = false;
        for (Thread t : threads) {
            // Closed from a future's action on a batching thread: that thread ends by itself once the queue is empty.
            while (t.isAlive() && t != Thread.currentThread()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Settings of a {@link BatchingPredictor}: all optional. */
    public static final class Builder {
        private final Model model;
        private int maxBatch = 32;
        private Duration maxDelay = Duration.ofMillis(2);
        private int queueLimit = 1024;
        private int threads = 1;
        private IntConsumer onBatch;

        private Builder(Model model) {
            this.model = model;
        }

        /**
         * The most items in one forward pass (default 32).
         *
         * @param items ≥ 1, at most {@link Predictor#MAX_BUCKET}
         * @return this builder
         */
        public Builder optMaxBatch(int items) {
            this.maxBatch = items;
            return this;
        }

        /**
         * How long a batch's first item waits for more items (default 2 ms; zero runs whatever is
         * queued at once). A batch waits only while it holds fewer items than the pass before it.
         *
         * @param delay ≥ 0
         * @return this builder
         */
        public Builder optMaxDelay(Duration delay) {
            this.maxDelay = delay;
            return this;
        }

        /**
         * The most items waiting for a batch (default 1024); more are refused at once.
         *
         * @param items ≥ 1
         * @return this builder
         */
        public Builder optQueueLimit(int items) {
            this.queueLimit = items;
            return this;
        }

        /**
         * How many forward passes run at once (default 1: each pass already uses every CPU core,
         * and a GPU runs one stream).
         *
         * @param threads ≥ 1
         * @return this builder
         */
        public Builder optThreads(int threads) {
            this.threads = threads;
            return this;
        }

        /**
         * Sees the size of every batch that ran, on the batching thread (for metrics).
         *
         * @param listener called with each batch's item count; must be quick
         * @return this builder
         */
        public Builder optOnBatch(IntConsumer listener) {
            this.onBatch = listener;
            return this;
        }

        /**
         * {@return the batcher, its threads started}
         *
         * @throws IllegalArgumentException when a setting is out of range
         * @throws IllegalStateException when the model is closed
         */
        public BatchingPredictor build() {
            if (maxBatch < 1 || maxBatch > Predictor.MAX_BUCKET) {
                throw new IllegalArgumentException("BatchingPredictor: max batch must be 1.." + Predictor.MAX_BUCKET
                        + ", got " + maxBatch);
            }
            if (maxDelay == null || maxDelay.isNegative()) {
                throw new IllegalArgumentException("BatchingPredictor: max delay must be >= 0, got " + maxDelay);
            }
            if (queueLimit < 1) {
                throw new IllegalArgumentException("BatchingPredictor: queue limit must be >= 1, got " + queueLimit);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("BatchingPredictor: threads must be >= 1, got " + threads);
            }
            model.checkOpen();
            return new BatchingPredictor(this);
        }
    }
}
