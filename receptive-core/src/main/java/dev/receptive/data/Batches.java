package dev.receptive.data;

import java.util.SplittableRandom;

/**
 * Mini-batches of a {@link Dataset}, copied into buffers the caller owns (nothing is allocated
 * per batch). A shuffled epoch's order depends only on (seed, epoch), so a trainer that resumes
 * at epoch k sees exactly the batches it would have seen without stopping.
 *
 * <pre>{@code
 * Batches batches = Batches.shuffled(train, 64, true, seed);
 * float[] x = new float[64 * train.itemShape().size()], y = new float[64];
 * Batches.Epoch e = batches.epoch(k);
 * for (int b = 0; b < e.count(); b++) {
 *     int n = e.fill(b, x, y); // rows 0..n-1 of x: (n, C, H, W), y: (n)
 * }
 * }</pre>
 */
public final class Batches {
    // Epochs are spread over the seed space by a large odd constant: plain seed ^ epoch would
    // give (seed, 1) and (seed ^ 1, 0) the same order, so two runs with adjacent seeds would
    // replay each other's epochs.
    private static final long EPOCH_STRIDE = 0xD1B54A32D192ED03L;

    private final Dataset data;
    private final int batchSize;
    private final boolean dropLast;
    private final boolean shuffle;
    private final long seed;

    private Batches(Dataset data, int batchSize, boolean dropLast, boolean shuffle, long seed) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("Batches: batch size must be positive, got " + batchSize);
        }
        if (dropLast && batchSize > data.size()) {
            throw new IllegalArgumentException("Batches: batch size " + batchSize + " with drop-last leaves no batch of "
                    + data.size() + " items");
        }
        this.data = data;
        this.batchSize = batchSize;
        this.dropLast = dropLast;
        this.shuffle = shuffle;
        this.seed = seed;
    }

    /** A fresh permutation per epoch; dropLast skips the final partial batch. */
    public static Batches shuffled(Dataset data, int batchSize, boolean dropLast, long seed) {
        return new Batches(data, batchSize, dropLast, true, seed);
    }

    /** The dataset in its stored order, last batch possibly partial (for evaluation). */
    public static Batches inOrder(Dataset data, int batchSize) {
        return new Batches(data, batchSize, false, false, 0);
    }

    public int batchSize() {
        return batchSize;
    }

    /** Batches per epoch. */
    public int count() {
        int n = data.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    public Epoch epoch(int epoch) {
        return new Epoch(shuffle ? permutation(data.size(), seed, epoch) : identity(data.size()));
    }

    /**
     * The dataset indices of shuffled epoch {@code epoch} of {@code n} items with {@code seed}: the
     * order {@link #shuffled} visits, for callers that hand out batches by index without holding
     * the data (a data-parallel driver).
     */
    public static int[] shuffledOrder(int n, long seed, int epoch) {
        if (n < 0) {
            throw new IllegalArgumentException("Batches.shuffledOrder: item count must be >= 0, got " + n);
        }
        return permutation(n, seed, epoch);
    }

    /** The order of epoch {@code epoch}: a Fisher–Yates shuffle driven by SplittableRandom. */
    static int[] permutation(int n, long seed, int epoch) {
        int[] order = identity(n);
        SplittableRandom random = new SplittableRandom(seed ^ (epoch * EPOCH_STRIDE));
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    private static int[] identity(int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        return order;
    }

    /** One pass over the data in a fixed order. */
    public final class Epoch {
        private final int[] order;

        private Epoch(int[] order) {
            this.order = order;
        }

        public int count() {
            return Batches.this.count();
        }

        /** The dataset index of the {@code position}-th item of this epoch. */
        public int index(int position) {
            return order[position];
        }

        /**
         * Copies batch {@code batch} into the buffers and returns its row count n (batchSize, or
         * fewer for a final partial batch); rows past n are left as they were.
         *
         * @param images at least batchSize·C·H·W values; receives (n, C, H, W)
         * @param labels at least batchSize values; receives (n) class indices as floats
         */
        public int fill(int batch, float[] images, float[] labels) {
            int perItem = data.itemShape().size();
            if (batch < 0 || batch >= count()) {
                throw new IllegalArgumentException("Batches.fill: batch " + batch + " outside [0, " + count() + ")");
            }
            if (images.length < (long) batchSize * perItem || labels.length < batchSize) {
                throw new IllegalArgumentException("Batches.fill: buffers of " + images.length + " image and "
                        + labels.length + " label values, need " + (long) batchSize * perItem + " and " + batchSize
                        + " for batch size " + batchSize + " of items " + data.itemShape());
            }
            int start = batch * batchSize;
            int n = Math.min(batchSize, order.length - start);
            for (int r = 0; r < n; r++) {
                int i = order[start + r];
                data.copyImage(i, images, r * perItem);
                labels[r] = data.label(i);
            }
            return n;
        }
    }
}
