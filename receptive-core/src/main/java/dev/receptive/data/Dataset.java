package dev.receptive.data;

import dev.receptive.tensor.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Labelled images held in memory: N images of shape (C, H, W), already normalized, and one
 * class index per image. Read-only; {@link Batches} copies them out batch by batch.
 */
public final class Dataset {
    private final float[] images; // (N, C, H, W)
    private final int[] labels; // (N)
    private final Shape itemShape; // (C, H, W)
    private final List<String> classNames;
    private final Normalization normalization;

    /**
     * Takes ownership of {@code images} and {@code labels} (no copy: the full MNIST training set
     * is 188 MB of floats).
     *
     * @param images (N, C, H, W), row-major
     * @param labels (N), each in [0, classNames.size())
     * @param itemShape (C, H, W)
     * @param classNames one name per class, at least one; copied
     * @throws IllegalArgumentException when the item shape is not (C, H, W), there is no class, the images do not
     *     hold exactly one item per label, or a label is out of range
     */
    public Dataset(float[] images, int[] labels, Shape itemShape, List<String> classNames) {
        this(images, labels, itemShape, classNames, null);
    }

    /**
     * As {@link #Dataset(float[], int[], Shape, List)}, recording how the pixels were normalized
     * (null when unknown), which a model trained on it stores for inference.
     *
     * @param images (N, C, H, W), row-major; taken, not copied
     * @param labels (N), each in [0, classNames.size()); taken, not copied
     * @param itemShape (C, H, W)
     * @param classNames one name per class, at least one; copied
     * @param normalization how raw pixels became these values, or null when unknown
     * @throws IllegalArgumentException as {@link #Dataset(float[], int[], Shape, List)}
     */
    public Dataset(float[] images, int[] labels, Shape itemShape, List<String> classNames, Normalization normalization) {
        if (itemShape.rank() != 3) {
            throw new IllegalArgumentException("Dataset: item shape must be (C, H, W), got " + itemShape);
        }
        if (classNames.isEmpty()) {
            throw new IllegalArgumentException("Dataset: needs at least one class name");
        }
        if ((long) labels.length * itemShape.size() != images.length) {
            throw new IllegalArgumentException("Dataset: " + labels.length + " labels and item shape " + itemShape
                    + " need " + (long) labels.length * itemShape.size() + " image values, got " + images.length);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classNames.size()) {
                throw new IllegalArgumentException("Dataset: label " + i + " is " + labels[i]
                        + ", outside [0, " + classNames.size() + ")");
            }
        }
        this.images = images;
        this.labels = labels;
        this.itemShape = itemShape;
        this.classNames = List.copyOf(classNames);
        this.normalization = normalization;
    }

    /** {@return how raw pixels became these values, or null when unknown} */
    public Normalization normalization() {
        return normalization;
    }

    /** {@return the number of images N} */
    public int size() {
        return labels.length;
    }

    /** {@return the shape (C, H, W) of one image} */
    public Shape itemShape() {
        return itemShape;
    }

    /** {@return the number of classes; labels lie in [0, classCount())} */
    public int classCount() {
        return classNames.size();
    }

    /** {@return the class names, unmodifiable; label k is the k-th} */
    public List<String> classNames() {
        return classNames;
    }

    /**
     * The class of one image.
     *
     * @param index the image, in [0, size())
     * @return its label, in [0, classCount())
     * @throws ArrayIndexOutOfBoundsException when index is out of range
     */
    public int label(int index) {
        return labels[index];
    }

    /**
     * Copies image {@code index}, C·H·W values, into dst starting at offset.
     *
     * @param index the image, in [0, size())
     * @param dst the buffer to fill, e.g. a batch's images
     * @param offset where the image's first value goes in dst
     * @throws IndexOutOfBoundsException when index is out of range or dst has no room from offset
     */
    public void copyImage(int index, float[] dst, int offset) {
        int n = itemShape.size();
        System.arraycopy(images, index * n, dst, offset, n);
    }

    /**
     * The items {@code from} (inclusive) to {@code to} (exclusive), copied, like DJL's
     * {@code subDataset(from, to)}: {@code subset(0, n)} is the first n items.
     *
     * @param from the first item, 0 ≤ from
     * @param to one past the last item, from ≤ to ≤ {@link #size()}
     * @return a new dataset of to − from items with this one's item shape and class names
     * @throws IllegalArgumentException when the range does not lie in [0, size()] or is empty
     */
    public Dataset subset(int from, int to) {
        if (from < 0 || to > size() || from >= to) {
            throw new IllegalArgumentException("Dataset.subset: range [" + from + ", " + to + ") is empty or outside [0, "
                    + size() + ")");
        }
        int[] indices = new int[to - from];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = from + i;
        }
        return subset(indices);
    }

    /**
     * The items at {@code indices}, in that order, copied, like PyTorch's
     * {@code torch.utils.data.Subset}; an index may appear more than once.
     *
     * @param indices at least one item index, each in [0, {@link #size()})
     * @return a new dataset of indices.length items with this one's item shape and class names
     * @throws IllegalArgumentException naming the first index out of range, or when there is none
     *     or the copy would exceed 2^31 values
     */
    public Dataset subset(int[] indices) {
        int perItem = itemShape.size();
        if (indices.length == 0) {
            throw new IllegalArgumentException("Dataset.subset: needs at least one index");
        }
        if ((long) indices.length * perItem > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Dataset.subset: " + indices.length + " items of " + itemShape
                    + " exceed 2^31 values");
        }
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= size()) {
                throw new IllegalArgumentException("Dataset.subset: index " + i + " is " + indices[i]
                        + ", outside [0, " + size() + ")");
            }
        }
        float[] x = new float[indices.length * perItem];
        int[] y = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            copyImage(indices[i], x, i * perItem);
            y[i] = labels[indices[i]];
        }
        return new Dataset(x, y, itemShape, classNames, normalization);
    }

    /**
     * Splits the items at random into parts of the given sizes, like PyTorch's
     * {@code random_split(dataset, sizes, generator)}: a training and a validation set with
     * {@code randomSplit(seed, size() - 5000, 5000)}. The items are shuffled by a Fisher–Yates
     * shuffle driven by {@link SplittableRandom}{@code (seed)}, so a seed gives the same parts on
     * every machine and JVM; part k holds the next sizes[k] items of that order, copied.
     *
     * @param seed seeds the shuffle
     * @param sizes the number of items of each part, each ≥ 1, adding up to {@link #size()}
     * @return the parts, in the order of {@code sizes}
     * @throws IllegalArgumentException when a size is below 1 or the sizes do not add up to size()
     */
    public List<Dataset> randomSplit(long seed, int... sizes) {
        long total = 0;
        for (int s : sizes) {
            if (s < 1) {
                throw new IllegalArgumentException("Dataset.randomSplit: sizes must be >= 1, got "
                        + Arrays.toString(sizes));
            }
            total += s;
        }
        if (total != size()) {
            throw new IllegalArgumentException("Dataset.randomSplit: sizes " + Arrays.toString(sizes) + " add up to "
                    + total + ", but the dataset has " + size() + " items");
        }
        int[] order = new int[size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        List<Dataset> parts = new ArrayList<>();
        int start = 0;
        for (int s : sizes) {
            parts.add(subset(Arrays.copyOfRange(order, start, start + s)));
            start += s;
        }
        return List.copyOf(parts);
    }
}
