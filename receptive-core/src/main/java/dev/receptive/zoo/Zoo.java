package dev.receptive.zoo;

import dev.receptive.backend.Backend;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Dropout;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.Model;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.init.Init;
import java.util.List;
import java.util.Locale;

/**
 * Ready-made networks by name, the one definition that the command line, the benchmarks and the
 * tests all build.
 */
public final class Zoo {
    /** The names {@link #build} knows. */
    public static final List<String> NAMES = List.of("seednet");

    private Zoo() {
    }

    /**
     * W1, the seed network (TensorFlow's Deep-MNIST CNN) for 1×28×28 inputs and 10 classes:
     * conv5×5×32 pad 2 + ReLU → maxpool 2 → conv5×5×64 pad 2 + ReLU → maxpool 2 → flatten →
     * dense 1024 + ReLU → dropout 0.5 → dense 10 (logits), about 3.27 million parameters.
     *
     * <p>Weights start Glorot uniform (Keras's default), not He: each max-pool raises the second
     * moment that He's variance keeps, so with He the initial logits are large (initial loss 5.7
     * on MNIST instead of ln 10 = 2.3) and Adam spends its first few hundred steps undoing that.
     * Measured on MNIST with Adam 1e-3, batch 64, after 300 steps: 97.1% test accuracy with He,
     * 98.1% with Glorot; after one epoch 98.4% with He (see docs/benchmarks.md for Glorot).
     */
    public static Sequential.Builder seedNet() {
        Init init = Init.xavier();
        return Sequential.builder().input(1, 28, 28)
                .add(Conv2d.builder().filters(32).kernel(5).padding(2).init(init).build()).add(new ReLU())
                .add(new MaxPool2d(2))
                .add(Conv2d.builder().filters(64).kernel(5).padding(2).init(init).build()).add(new ReLU())
                .add(new MaxPool2d(2))
                .add(new Flatten())
                .add(Dense.builder().units(1024).init(init).build()).add(new ReLU())
                .add(new Dropout(0.5))
                .add(Dense.builder().units(10).init(init).build());
    }

    /**
     * The network called {@code name} (one of {@link #NAMES}, any case), seeded with {@code seed},
     * on {@code backend}.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static Model build(String name, Backend backend, long seed) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("seednet")) {
            return seedNet().seed(seed).build(backend);
        }
        throw new IllegalArgumentException("Zoo: no model named '" + name + "' (known: " + String.join(", ", NAMES) + ")");
    }
}
