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
    private final Augmentation augmentation;

    private Batches(Dataset data, int batchSize, boolean dropLast, boolean shuffle, long seed, Augmentation augmentation) {
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
        this.augmentation = augmentation;
    }

    /**
     * Batches in a fresh order each epoch, a pure function of (seed, epoch).
     *
     * @param data the dataset
     * @param batchSize images per batch, ≥ 1
     * @param dropLast skip the final partial batch of each epoch
     * @param seed seeds every epoch's order
     * @return the batches
     * @throws IllegalArgumentException when the batch size is below 1, or with dropLast exceeds the dataset
     */
    public static Batches shuffled(Dataset data, int batchSize, boolean dropLast, long seed) {
        return new Batches(data, batchSize, dropLast, true, seed, null);
    }

    /**
     * The dataset in its stored order, the last batch possibly partial (for evaluation).
     *
     * @param data the dataset
     * @param batchSize images per batch, ≥ 1
     * @return the batches
     * @throws IllegalArgumentException when the batch size is below 1
     */
    public static Batches inOrder(Dataset data, int batchSize) {
        return new Batches(data, batchSize, false, false, 0, null);
    }

    /**
     * These batches with {@code augmentation} applied to every image as it is filled, drawing
     * from (seed, epoch, position): the same images whatever thread fills them, and after a resume.
     *
     * @param augmentation applied to each image after it is copied; the dataset stays unchanged
     * @return new batches with the same order
     * @throws IllegalArgumentException when augmentation is null or the images are not (C, H, W)
     */
    public Batches augmented(Augmentation augmentation) {
        if (augmentation == null) {
            throw new IllegalArgumentException("Batches.augmented: augmentation must not be null");
        }
        if (data.itemShape().rank() != 3) {
            throw new IllegalArgumentException("Batches.augmented: images must be (C, H, W), got " + data.itemShape());
        }
        return new Batches(data, batchSize, dropLast, shuffle, seed, augmentation);
    }

    /**
     * The batch size.
     *
     * @return images per (full) batch
     */
    public int batchSize() {
        return batchSize;
    }

    /**
     * The number of batches per epoch.
     *
     * @return size / batchSize, rounded down with dropLast, else up
     */
    public int count() {
        int n = data.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /**
     * One epoch's order.
     *
     * @param epoch counted from 0
     * @return the epoch, whose batches {@link Epoch#fill} copies out
     */
    public Epoch epoch(int epoch) {
        return new Epoch(shuffle ? permutation(data.size(), seed, epoch) : identity(data.size()), epoch);
    }

    /**
     * The dataset indices of shuffled epoch {@code epoch} of {@code n} items with {@code seed}: the
     * order {@link #shuffled} visits, for callers that hand out batches by index without holding
     * the data (a data-parallel driver).
     *
     * @param n the number of items, ≥ 0
     * @param seed as given to {@link #shuffled}
     * @param epoch counted from 0
     * @return a new permutation of 0 … n − 1
     * @throws IllegalArgumentException when n &lt; 0
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

    /** The normalized value of a black pixel, what an augmentation shifts in: 0 when the normalization is unknown. */
    private float padValue() {
        Normalization norm = data.normalization();
        return norm == null ? 0f : (float) ((0 - norm.mean()) / norm.std());
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
        private final int number;

        private Epoch(int[] order, int number) {
            this.order = order;
            this.number = number;
        }

        /**
         * The number of batches in this epoch.
         *
         * @return the same as {@link Batches#count()}
         */
        public int count() {
            return Batches.this.count();
        }

        /**
         * Where an item of this epoch comes from.
         *
         * @param position the item's position in this epoch's order
         * @return its index in the dataset
         */
        public int index(int position) {
            return order[position];
        }

        /**
         * Copies batch {@code batch} into the buffers and returns its row count n (batchSize, or
         * fewer for a final partial batch); rows past n are left as they were.
         *
         * @param batch the batch, in [0, count())
         * @param images at least batchSize·C·H·W values; receives (n, C, H, W)
         * @param labels at least batchSize values; receives (n) class indices as floats
         * @return n, the number of rows filled
         * @throws IllegalArgumentException when the batch is out of range or a buffer is too small
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
            float pad = padValue();
            for (int r = 0; r < n; r++) {
                int i = order[start + r];
                data.copyImage(i, images, r * perItem);
                labels[r] = data.label(i);
                if (augmentation != null) {
                    long stream = (seed ^ (number * EPOCH_STRIDE)) * 0x9E3779B97F4A7C15L + start + r;
                    augmentation.apply(images, r * perItem, data.itemShape(), pad, new SplittableRandom(stream));
                }
            }
            return n;
        }
    }
}
