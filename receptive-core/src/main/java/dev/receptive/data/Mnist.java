package dev.receptive.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** MNIST handwritten digits: 28×28 grey images, classes 0..9; 60,000 train and 10,000 test. */
public final class Mnist {
    public static final List<String> CLASS_NAMES = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");

    private Mnist() {
    }

    /** Loads a split from dir (raw or .gz IDX files), normalized with MNIST's mean and std. */
    public static Dataset load(Path dir, Split split) throws IOException {
        return load(dir, split, Normalization.MNIST);
    }

    public static Dataset load(Path dir, Split split, Normalization norm) throws IOException {
        return IdxDatasets.load(dir, split, norm, CLASS_NAMES);
    }
}
