package dev.receptive.backend.cuda;

import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Dropout;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.init.Init;

/**
 * W1, the seed network, built through the layer API as the command line builds it (its
 * Models.seedNet, which this module cannot see): conv5×5×32 pad 2 + ReLU → maxpool 2 → conv5×5×64
 * pad 2 + ReLU → maxpool 2 → flatten → dense 1024 + ReLU → dropout 0.5 → dense 10, Glorot uniform.
 * To be replaced by the model zoo's "seednet" once there is one.
 */
public final class SeedNetModel {
    private SeedNetModel() {
    }

    /**
     * The builder, seeded.
     *
     * @param seed seeds the initial weights and the dropout masks
     * @return the seed network's builder
     */
    public static Sequential.Builder builder(long seed) {
        Init init = Init.xavier();
        return Sequential.builder().input(1, 28, 28)
                .add(Conv2d.builder().filters(32).kernel(5).padding(2).init(init).build()).add(new ReLU())
                .add(new MaxPool2d(2))
                .add(Conv2d.builder().filters(64).kernel(5).padding(2).init(init).build()).add(new ReLU())
                .add(new MaxPool2d(2))
                .add(new Flatten())
                .add(Dense.builder().units(1024).init(init).build()).add(new ReLU())
                .add(new Dropout(0.5))
                .add(Dense.builder().units(10).init(init).build())
                .seed(seed);
    }
}
