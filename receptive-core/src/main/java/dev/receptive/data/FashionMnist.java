package dev.receptive.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017; MIT, Zalando SE): 28×28 grey images of
 * clothing in 10 classes, in MNIST's file layout; 60,000 train and 10,000 test.
 */
public final class FashionMnist {
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private FashionMnist() {
    }

    /** Loads a split from dir (raw or .gz IDX files), normalized with Fashion-MNIST's mean and std. */
    public static Dataset load(Path dir, Split split) throws IOException {
        return load(dir, split, Normalization.FASHION_MNIST);
    }

    public static Dataset load(Path dir, Split split, Normalization norm) throws IOException {
        return IdxDatasets.load(dir, split, norm, CLASS_NAMES);
    }
}
