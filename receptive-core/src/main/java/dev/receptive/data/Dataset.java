package dev.receptive.data;

import dev.receptive.tensor.Shape;
import java.util.List;

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
     */
    public Dataset(float[] images, int[] labels, Shape itemShape, List<String> classNames) {
        this(images, labels, itemShape, classNames, null);
    }

    /**
     * As {@link #Dataset(float[], int[], Shape, List)}, recording how the pixels were normalized
     * (null when unknown), which a model trained on it stores for inference.
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

    /** How raw pixels became these values, or null when unknown. */
    public Normalization normalization() {
        return normalization;
    }

    /** Number of images N. */
    public int size() {
        return labels.length;
    }

    /** (C, H, W) of one image. */
    public Shape itemShape() {
        return itemShape;
    }

    public int classCount() {
        return classNames.size();
    }

    public List<String> classNames() {
        return classNames;
    }

    public int label(int index) {
        return labels[index];
    }

    /** Copies image {@code index}, C·H·W values, into dst starting at offset. */
    public void copyImage(int index, float[] dst, int offset) {
        int n = itemShape.size();
        System.arraycopy(images, index * n, dst, offset, n);
    }
}
