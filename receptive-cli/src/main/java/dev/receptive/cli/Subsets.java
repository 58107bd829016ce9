package dev.receptive.cli;

import dev.receptive.data.Dataset;

/** Parts of a dataset, for quick runs. */
final class Subsets {
    private Subsets() {
    }

    /** The first n items of {@code data}, copied. */
    static Dataset first(Dataset data, int n) {
        int perItem = data.itemShape().size();
        float[] images = new float[n * perItem];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            data.copyImage(i, images, i * perItem);
            labels[i] = data.label(i);
        }
        return new Dataset(images, labels, data.itemShape(), data.classNames(), data.normalization());
    }
}
