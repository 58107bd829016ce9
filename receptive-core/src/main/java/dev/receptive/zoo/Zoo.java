package dev.receptive.zoo;

import dev.receptive.backend.Backend;
import dev.receptive.nn.BatchNorm2d;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Dropout;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.GlobalAvgPool2d;
import dev.receptive.nn.Graph;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.Model;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.init.Init;
import dev.receptive.tensor.Shape;
import java.util.List;
import java.util.Locale;

/**
 * Ready-made networks by name, the one definition that the command line, the benchmarks and the
 * tests all build.
 */
public final class Zoo {
    /** The names {@link #build} knows: the seed network and ResNets of 8, 14 and 20 layers. */
    public static final List<String> NAMES = List.of("seednet", "resnet8", "resnet14", "resnet20");

    private static final Shape MNIST = Shape.of(1, 28, 28);

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
     *
     * @return a builder holding the layers and input (1, 28, 28); set the seed and build it on a backend
     */
    public static Sequential.Builder seedNet() {
        return seedNet(MNIST, 10);
    }

    /**
     * The seed network's layers for other (C, H, W) inputs and class counts, such as an image
     * folder's: the dense layer after the second pool takes 64 · ⌊⌊H/2⌋/2⌋ · ⌊⌊W/2⌋/2⌋ features.
     *
     * @param input the item shape (C, H, W), H and W ≥ 4
     * @param classes the number of logits, ≥ 1
     * @return a builder holding the layers and input; set the seed and build it on a backend
     * @throws IllegalArgumentException when the input is not (C, H, W) of at least 4 × 4, or classes &lt; 1
     */
    public static Sequential.Builder seedNet(Shape input, int classes) {
        if (input.rank() != 3 || input.dim(1) < 4 || input.dim(2) < 4 || classes < 1) {
            throw new IllegalArgumentException("Zoo.seedNet: input must be (C, H, W) of at least 4x4 and classes >= 1,"
                    + " got " + input + ", " + classes);
        }
        Init init = Init.xavier();
        return Sequential.builder().input(input.dims())
                .add(Conv2d.builder().filters(32).kernel(5).padding(2).init(init).build()).add(new ReLU())
                .add(new MaxPool2d(2))
                .add(Conv2d.builder().filters(64).kernel(5).padding(2).init(init).build()).add(new ReLU())
                .add(new MaxPool2d(2))
                .add(new Flatten())
                .add(Dense.builder().units(1024).init(init).build()).add(new ReLU())
                .add(new Dropout(0.5))
                .add(Dense.builder().units(classes).init(init).build());
    }

    /**
     * A ResNet for small images (He et al. 2016, section 4.2, the CIFAR design), for (C, H, W)
     * inputs such as 1×28×28: conv 3×3 of {@code base} channels + batch norm + ReLU, then three
     * stages of {@code blocksPerStage} basic blocks ({@link ResidualBlocks#basic}) of base, 2·base
     * and 4·base channels, the last two starting with stride 2 (28 → 14 → 7), then global average
     * pooling and a dense layer to {@code classes} logits. Depth 6·blocksPerStage + 2: 1 block gives
     * ResNet-8, 2 ResNet-14, 3 ResNet-20. Convolution weights start He normal, the dense layer's Glorot
     * uniform, batch norms at 1 and 0.
     *
     * @param input the item shape (C, H, W)
     * @param blocksPerStage basic blocks per stage, ≥ 1
     * @param base the first stage's channels, ≥ 1 (16 in the paper)
     * @param classes the number of logits, ≥ 1
     * @return a builder holding the graph with its input and output; set the seed and build it on a backend
     * @throws IllegalArgumentException when the input is not (C, H, W) or a count is below 1
     */
    public static Graph.Builder resnet(Shape input, int blocksPerStage, int base, int classes) {
        if (input.rank() != 3 || blocksPerStage < 1 || base < 1 || classes < 1) {
            throw new IllegalArgumentException("Zoo.resnet: input must be (C, H, W) and blocks per stage, base channels"
                    + " and classes >= 1, got " + input + ", " + blocksPerStage + ", " + base + ", " + classes);
        }
        int width = base;
        Graph.Builder g = Graph.builder().input(input.dims())
                .add("stem.conv", Conv2d.builder().filters(width).kernel(3).padding(1).bias(false).init(Init.he())
                        .build(), Model.INPUT)
                .add("stem.bn", new BatchNorm2d(), "stem.conv")
                .add("stem.relu", new ReLU(), "stem.bn");
        String last = "stem.relu";
        int in = width;
        for (int stage = 0; stage < 3; stage++) {
            int out = width << stage;
            for (int b = 0; b < blocksPerStage; b++) {
                int stride = stage > 0 && b == 0 ? 2 : 1;
                last = ResidualBlocks.basic(g, "layer" + (stage + 1) + "." + b, last, in, out, stride);
                in = out;
            }
        }
        return g.add("pool", new GlobalAvgPool2d(), last)
                .add("flatten", new Flatten(), "pool")
                .add("fc", Dense.builder().units(classes).init(Init.xavier()).build(), "flatten")
                .output("fc");
    }

    /**
     * The network called {@code name} (one of {@link #NAMES}, any case), seeded with {@code seed},
     * on {@code backend}: the ResNets take 1×28×28 images in 10 classes at width 16.
     *
     * @param name one of {@link #NAMES}, any case, surrounding blanks ignored
     * @param backend where the tensors go
     * @param seed seeds the weights and dropout masks
     * @return the model; the caller owns it and closes it
     * @throws IllegalArgumentException for an unknown name
     */
    public static Model build(String name, Backend backend, long seed) {
        return build(name, MNIST, 10, backend, seed);
    }

    /**
     * The network called {@code name} (one of {@link #NAMES}, any case) for {@code input} images
     * in {@code classes} classes (an image folder's), seeded with {@code seed}, on {@code backend};
     * the ResNets at width 16.
     *
     * @param name one of {@link #NAMES}, any case, surrounding blanks ignored
     * @param input the item shape (C, H, W)
     * @param classes the number of logits, ≥ 1
     * @param backend where the tensors go
     * @param seed seeds the weights and dropout masks
     * @return the model; the caller owns it and closes it
     * @throws IllegalArgumentException for an unknown name, or an input or class count the network cannot take
     */
    public static Model build(String name, Shape input, int classes, Backend backend, long seed) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "seednet":
                return seedNet(input, classes).seed(seed).build(backend);
            case "resnet8":
                return resnet(input, 1, 16, classes).seed(seed).build(backend);
            case "resnet14":
                return resnet(input, 2, 16, classes).seed(seed).build(backend);
            case "resnet20":
                return resnet(input, 3, 16, classes).seed(seed).build(backend);
            default:
                break;
        }
        throw new IllegalArgumentException("Zoo: no model named '" + name + "' (known: " + String.join(", ", NAMES) + ")");
    }
}
