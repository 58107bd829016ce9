package dev.receptive.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017; MIT, Zalando SE): 28×28 grey images of
 * clothing in 10 classes, in MNIST's file layout; 60,000 train and 10,000 test.
 */
public final class FashionMnist {
    /** The names of classes 0..9. */
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private FashionMnist() {
    }

    /**
     * Loads a split normalized with Fashion-MNIST's mean and std ({@link Normalization#FASHION_MNIST}).
     *
     * @param dir the folder of the IDX files (raw or .gz), e.g. {@link DataFolder#fashionMnist()}
     * @param split {@link Split#TRAIN} or {@link Split#TEST}
     * @return the images, normalized, and their labels
     * @throws IOException naming the file that is missing, damaged or not the expected IDX data
     */
    public static Dataset load(Path dir, Split split) throws IOException {
        return load(dir, split, Normalization.FASHION_MNIST);
    }

    /**
     * Loads a split with the given normalization.
     *
     * @param dir the folder of the IDX files (raw or .gz)
     * @param split {@link Split#TRAIN} or {@link Split#TEST}
     * @param norm how pixel bytes become inputs, e.g. {@link Normalization#UNIT_RANGE} for p / 255
     * @return the images, normalized, and their labels
     * @throws IOException naming the file that is missing, damaged or not the expected IDX data
     */
    public static Dataset load(Path dir, Split split, Normalization norm) throws IOException {
        return IdxDatasets.load(dir, split, norm, CLASS_NAMES);
    }
}
