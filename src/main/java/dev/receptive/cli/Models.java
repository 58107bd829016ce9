package dev.receptive.cli;

import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Dropout;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sequential;

/** The networks the command line trains. */
final class Models {
    private Models() {
    }

    /**
     * W1, the seed network (TensorFlow's Deep-MNIST CNN): conv5×5×32 pad 2 + ReLU → maxpool 2 →
     * conv5×5×64 pad 2 + ReLU → maxpool 2 → flatten → dense 1024 + ReLU → dropout 0.5 → dense 10.
     */
    static Sequential.Builder seedNet(long seed) {
        return Sequential.builder().input(1, 28, 28)
                .add(Conv2d.builder().filters(32).kernel(5).padding(2).build()).add(new ReLU())
                .add(new MaxPool2d(2))
                .add(Conv2d.builder().filters(64).kernel(5).padding(2).build()).add(new ReLU())
                .add(new MaxPool2d(2))
                .add(new Flatten())
                .add(Dense.builder().units(1024).build()).add(new ReLU())
                .add(new Dropout(0.5))
                .add(Dense.builder().units(10).build())
                .seed(seed);
    }
}
