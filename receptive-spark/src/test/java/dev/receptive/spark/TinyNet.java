package dev.receptive.spark;

import dev.receptive.backend.Backend;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Dropout;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.Model;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sequential;
import java.nio.file.Path;

/** A small CNN with dropout for 1×28×28 inputs: the seed net's shape at a fraction of its cost, for fast tests. */
final class TinyNet {
    static final Path TRAIN = Path.of("test-data/fashion-mnist-2k-train");
    static final Path TEST = Path.of("test-data/fashion-mnist-1k");

    private TinyNet() {
    }

    static Model build(Backend backend, long seed) {
        return Sequential.builder().input(1, 28, 28)
                .add(Conv2d.builder().filters(8).kernel(3).padding(1).build()).add(new ReLU())
                .add(new MaxPool2d(2))
                .add(new Flatten())
                .add(Dense.builder().units(32).build()).add(new ReLU())
                .add(new Dropout(0.5))
                .add(Dense.builder().units(10).build())
                .seed(seed).build(backend);
    }
}
