package dev.receptive.serve;

import dev.receptive.backend.Backend;
import dev.receptive.data.ImageInput;
import dev.receptive.data.Normalization;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.BatchingPredictor;
import dev.receptive.nn.Model;
import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * One model file served under its name: the version loaded now, swapped for a new one when the
 * file is replaced. A request holds the version it started with until it ends, so a reload
 * never fails a request in flight; the old version closes (its batcher drained) when its last
 * request is done.
 */
final class ServedModel {
    private static final System.Logger LOG = System.getLogger(ServedModel.class.getName());

    private final String name;
    private final Path file;
    private final ServeSettings settings;
    private final Backend backend;
    private final IntConsumer onBatch;
    private final AtomicReference<Version> current = new AtomicReference<>();
    private final AtomicInteger versions = new AtomicInteger();
    /** The file as last read, loaded or not: a failed reload is not tried again until the file changes. */
    private volatile Stamp seen;

    /** What identifies one state of a file: replacing it (a rename) changes the key, rewriting it the time or size. */
    private record Stamp(Object key, long modified, long size) {
        static Stamp of(Path file) throws IOException {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return new Stamp(a.fileKey(), a.lastModifiedTime().toMillis(), a.size());
        }
    }

    ServedModel(String name, Path file, ServeSettings settings, Backend backend, IntConsumer onBatch) throws IOException {
        this.name = name;
        this.file = file;
        this.settings = settings;
        this.backend = backend;
        this.onBatch = onBatch;
        Stamp stamp = Stamp.of(file);
        current.set(load());
        seen = stamp;
    }

    String name() {
        return name;
    }

    Path file() {
        return file;
    }

    /** The version now served, held until {@link Version#release()}: never one that is closing. */
    Version acquire() {
        while (true) {
            Version v = current.get();
            if (v == null) {
                throw new IllegalStateException(name + ": the model is closed");
            }
            if (v.tryAcquire()) {
                return v;
            }
        }
    }

    /**
     * Loads the file again when it changed since it was last read, and serves the new version
     * once it is warm; a file that does not load leaves the old version served.
     *
     * @return whether a new version is served
     */
    boolean reloadIfChanged() {
        Stamp now;
        try {
            now = Stamp.of(file);
        } catch (IOException e) {
            return false; // between a delete and a rename, or gone: keep serving what is loaded
        }
        if (now.equals(seen)) {
            return false;
        }
        seen = now;
        Version next;
        try {
            next = load();
            next.warmUp();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, name + ": " + file + " changed but does not load; still serving version "
                    + current.get().number + ": " + e.getMessage());
            return false;
        }
        Version old = current.getAndSet(next);
        if (old != null) {
            old.release();
        }
        LOG.log(System.Logger.Level.INFO, name + ": serving version " + next.number + " of " + file);
        return true;
    }

    /** Stops serving: the version closes once its requests are done. */
    void close() {
        Version v = current.getAndSet(null);
        if (v != null) {
            v.release();
        }
    }

    private Version load() throws IOException {
        ModelFile.Contents contents = ModelFile.read(file);
        Model model = ModelFile.build(contents, backend);
        try {
            return new Version(versions.incrementAndGet(), model, contents.model().placementBytes());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** One loaded state of the file: a model, its batcher (or a limit on direct calls), how images become inputs. */
    final class Version {
        final int number;
        final Model model;
        final long weightBytes;
        final List<String> classNames;
        private final BatchingPredictor batcher;
        private final Semaphore direct;
        private final ImageInput images;
        private final ImageInput imagesAutoInvert;
        private final String noImages;
        /** Requests holding this version, plus one while it is served; at 0 it closes. */
        private final AtomicInteger holders = new AtomicInteger(1);

        Version(int number, Model model, long weightBytes) {
            this.number = number;
            this.model = model;
            this.weightBytes = weightBytes;
            Shape out = model.outputShape();
            if (out.rank() != 1) {
                throw new IllegalArgumentException(file + ": serving needs one score per class, but the model gives " + out);
            }
            this.classNames = classNames(model.info().classNames(), out.dim(0));
            if (settings.memoryBudget() >= 0) {
                model.predictor().setMemoryBudget(settings.memoryBudget());
            }
            Shape in = model.inputShape();
            Normalization norm = model.info().normalization();
            if (in.rank() != 3 || (in.dim(0) != 1 && in.dim(0) != 3)) {
                this.images = null;
                this.imagesAutoInvert = null;
                this.noImages = "the model takes " + in + ", not grayscale (1, H, W) or RGB (3, H, W) images";
            } else if (norm == null) {
                this.images = null;
                this.imagesAutoInvert = null;
                this.noImages = "the model file does not record how its inputs were normalized";
            } else {
                this.images = ImageInput.builder().shape(in).normalize(norm).build();
                // Only a grayscale model is ever inverted, as by the predict command.
                this.imagesAutoInvert = in.dim(0) == 1
                        ? ImageInput.builder().shape(in).normalize(norm).invert(ImageInput.Invert.AUTO).build() : images;
                this.noImages = null;
            }
            // Last: the batcher starts a thread, which nothing would stop if the constructor failed after it.
            if (settings.batching()) {
                this.batcher = BatchingPredictor.builder(model).optMaxBatch(settings.maxBatch())
                        .optMaxDelay(settings.maxDelay()).optQueueLimit(settings.queueLimit()).optOnBatch(onBatch).build();
                this.direct = null;
            } else {
                this.batcher = null;
                this.direct = new Semaphore(settings.queueLimit());
            }
        }

        private boolean tryAcquire() {
            while (true) {
                int h = holders.get();
                if (h == 0) {
                    return false;
                }
                if (holders.compareAndSet(h, h + 1)) {
                    return true;
                }
            }
        }

        /** Ends one hold; the last closes the batcher (which answers what it queued) and then the model. */
        void release() {
            if (holders.decrementAndGet() == 0) {
                if (batcher != null) {
                    batcher.close();
                }
                model.close();
            }
        }

        /**
         * The probabilities of each item, through the batcher or directly.
         *
         * @throws IllegalArgumentException for a bad item
         * @throws RejectedExecutionException when the queue (or the limit of direct calls) is full
         * @throws IllegalStateException when the model cannot predict now
         */
        float[][] predict(float[][] items) throws InterruptedException {
            if (batcher == null) {
                if (!direct.tryAcquire(items.length)) {
                    throw new RejectedExecutionException(name + ": " + settings.queueLimit()
                            + " items are being predicted already; try again later");
                }
                try {
                    return model.predictor().probabilities(items);
                } finally {
                    direct.release(items.length);
                }
            }
            List<CompletableFuture<float[]>> futures = new ArrayList<>(items.length);
            for (float[] item : items) {
                futures.add(batcher.submit(item));
            }
            float[][] result = new float[items.length][];
            for (int i = 0; i < items.length; i++) {
                try {
                    result[i] = futures.get(i).get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    throw new IllegalStateException(name + ": " + e.getCause(), e.getCause());
                }
            }
            return result;
        }

        /** Runs every batch size a request can take once, so the first requests find warm workspaces and code. */
        void warmUp() throws IOException {
            int item = model.inputShape().size();
            int largest = batcher == null ? 1 : batcher.maxBatch();
            for (int n = 1; ; n = Math.min(2 * n, largest)) {
                model.predictor().outputs(new float[n * item]);
                if (n == largest) {
                    break;
                }
            }
            try {
                predict(new float[][] {new float[item]});
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(name + ": interrupted while warming up", e);
            }
        }

        /** How an image file becomes this model's input, or null when it cannot; see {@link #noImages()}. */
        ImageInput images() {
            return images;
        }

        /** As {@link #images()}, inverting dark-on-light images for a grayscale model. */
        ImageInput imagesAutoInvert() {
            return imagesAutoInvert;
        }

        /** {@return the most items queued at once} */
        int queueLimit() {
            return settings.queueLimit();
        }

        /** Why this model takes no images, or null when it does. */
        String noImages() {
            return noImages;
        }

        /** Items waiting for a batch now. */
        int queueDepth() {
            return batcher == null ? settings.queueLimit() - direct.availablePermits() : batcher.queueDepth();
        }

        String name() {
            return name;
        }
    }

    /** The model's class names, or "0", "1", … when it records none. */
    private static List<String> classNames(List<String> recorded, int classes) {
        if (recorded.size() == classes) {
            return recorded;
        }
        List<String> numbers = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            numbers.add(Integer.toString(c));
        }
        return numbers;
    }
}
