package dev.receptive.train;

import dev.receptive.data.Batches;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Fills the next batch on a background thread while the current one trains, so the backend does
 * not wait for data (augmentation included). Two buffer pairs take turns; batch b of an epoch is
 * always the same, whichever thread fills it, so training stays reproducible.
 */
final class Prefetcher implements AutoCloseable {
    /** One filled batch: (batch, C, H, W) images and their labels. */
    record Batch(int index, float[] images, float[] labels) {
    }

    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "receptive-data");
        t.setDaemon(true);
        return t;
    });
    private final Batch[] buffers;
    private Batches.Epoch epoch;
    private Future<Batch> next;

    Prefetcher(Batches batches, int itemSize) {
        int n = batches.batchSize();
        buffers = new Batch[] {new Batch(0, new float[n * itemSize], new float[n]),
            new Batch(1, new float[n * itemSize], new float[n])};
    }

    /** Starts an epoch: its first batch begins to fill. */
    void start(Batches.Epoch order) {
        cancel();
        epoch = order;
        next = fill(0);
    }

    /**
     * Batch {@code b} of the epoch, waiting for it if it is not filled yet; batch b + 1 starts
     * filling the other buffers, which held batch b − 1: the caller must be done with that one.
     */
    Batch take(int b) {
        Batch batch;
        try {
            batch = next.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Trainer: interrupted while waiting for a batch", e);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException re ? re : new IllegalStateException("Trainer: filling batch " + b
                    + " failed: " + cause, cause);
        }
        if (batch.index() != b % 2) {
            throw new IllegalStateException("Trainer: batches taken out of order");
        }
        next = b + 1 < epoch.count() ? fill(b + 1) : null;
        return batch;
    }

    private Future<Batch> fill(int b) {
        Batch into = buffers[b % 2];
        Batches.Epoch order = epoch;
        return worker.submit(() -> {
            order.fill(b, into.images(), into.labels());
            return into;
        });
    }

    private void cancel() {
        if (next != null) {
            try {
                next.get();
            } catch (Exception ignored) {
                // a fill that failed matters only to a take that will not come
            }
            next = null;
        }
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
