package dev.receptive.nn;

/** Workload W1 of docs/design.md, the TensorFlow Deep-MNIST network, as a builder for tests. */
final class SeedNet {
    private SeedNet() {
    }

    static Sequential.Builder builder() {
        return Sequential.builder().input(1, 28, 28)
                .add(Conv2d.builder().filters(32).kernel(5).padding(2).build()).add(new ReLU())
                .add(new MaxPool2d(2))
                .add(Conv2d.builder().filters(64).kernel(5).padding(2).build()).add(new ReLU())
                .add(new MaxPool2d(2))
                .add(new Flatten())
                .add(Dense.builder().units(1024).build()).add(new ReLU())
                .add(new Dropout(0.5))
                .add(Dense.builder().units(10).build())
                .seed(42);
    }
}
