package dev.receptive.train;

import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Split;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Dropout;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sequential;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The committed Fashion-MNIST fixtures and small networks for them, shared by the training tests. */
final class Fixtures {
    static final Path TRAIN_2K = Path.of("test-data", "fashion-mnist-2k-train");
    static final Path TEST_1K = Path.of("test-data", "fashion-mnist-1k");
    private static Dataset train;
    private static Dataset test;

    private Fixtures() {
    }

    static synchronized Dataset train() {
        if (train == null) {
            train = load(TRAIN_2K, Split.TRAIN);
        }
        return train;
    }

    static synchronized Dataset test() {
        if (test == null) {
            test = load(TEST_1K, Split.TEST);
        }
        return test;
    }

    /** The first n training images. */
    static Dataset train(int n) {
        Dataset all = train();
        int perItem = all.itemShape().size();
        float[] images = new float[n * perItem];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            all.copyImage(i, images, i * perItem);
            labels[i] = all.label(i);
        }
        return new Dataset(images, labels, all.itemShape(), all.classNames());
    }

    /** conv 5×5×8 pad 2 + ReLU → maxpool 2 → dense 10: small enough to train in seconds. */
    static Sequential.Builder smallNet(long seed) {
        return Sequential.builder().input(1, 28, 28)
                .add(Conv2d.builder().filters(8).kernel(5).padding(2).build()).add(new ReLU())
                .add(new MaxPool2d(2)).add(new Flatten())
                .add(Dense.builder().units(10).build())
                .seed(seed);
    }

    /** conv 3×3×4 → maxpool 4 → dropout 0.3 → dense 10: a tiny net whose training depends on the dropout step. */
    static Sequential.Builder tinyDropoutNet(long seed) {
        return Sequential.builder().input(1, 28, 28)
                .add(Conv2d.builder().filters(4).kernel(3).padding(1).build()).add(new ReLU())
                .add(new MaxPool2d(4)).add(new Flatten())
                .add(new Dropout(0.3))
                .add(Dense.builder().units(10).build())
                .seed(seed);
    }

    private static Dataset load(Path dir, Split split) {
        try {
            return FashionMnist.load(dir, split);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
