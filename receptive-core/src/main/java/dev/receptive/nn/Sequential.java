package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * The easy way to build a {@link Model} that is a chain of layers, like PyTorch's nn.Sequential:
 * layers are named by their index, so parameters are "0.weight", "0.bias", "3.weight", …
 *
 * <pre>
 * try (Model model = Sequential.builder().input(1, 28, 28)
 *         .add(Conv2d.builder().filters(32).kernel(5).padding(2).build()).add(new ReLU())
 *         .add(new MaxPool2d(2)).add(new Flatten()).add(Dense.builder().units(10).build())
 *         .seed(42).build(backend)) {
 *     float[] probabilities = model.predict(image);
 * }
 * </pre>
 *
 * The result is the same graph as a {@link Graph} with nodes "0", "1", … each reading the one
 * before.
 */
public final class Sequential {
    private Sequential() {
    }

    /** {@return a new chain builder} */
    public static Builder builder() {
        return new Builder();
    }

    /** input and at least one layer are required; seed defaults to 0. */
    public static final class Builder {
        private Shape input;
        private long seed;
        private final List<Layer> layers = new ArrayList<>();

        private Builder() {
        }

        /**
         * Sets the item input shape without the batch dimension (required).
         *
         * @param dims (C, H, W) for images, (F) for vectors; each ≥ 1
         * @return this builder
         * @throws IllegalArgumentException when a dimension is below 1
         */
        public Builder input(int... dims) {
            this.input = Shape.of(dims);
            return this;
        }

        /**
         * Appends a layer; it reads the output of the one added before (the model's input for the first).
         *
         * @param layer a new layer, not part of another model (the model then owns it)
         * @return this builder
         * @throws IllegalArgumentException when layer is null
         */
        public Builder add(Layer layer) {
            if (layer == null) {
                throw new IllegalArgumentException("Sequential: layer " + layers.size() + " is null");
            }
            layers.add(layer);
            return this;
        }

        /**
         * Seeds parameter init and dropout masks (default 0); the same seed gives the same model.
         *
         * @param seed any value
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Infers every shape, then builds the model on {@code backend}.
         *
         * @param backend where the tensors go
         * @return the model; the caller owns it and closes it
         * @throws IllegalArgumentException naming the layer (index and type) and its input shape
         *     when a layer does not fit its input
         */
        public Model build(Backend backend) {
            return Model.build(input, specs(), output(), seed, backend, "Sequential");
        }

        List<Graph.Spec> specs() {
            List<Graph.Spec> specs = new ArrayList<>();
            for (int i = 0; i < layers.size(); i++) {
                specs.add(new Graph.Spec(Integer.toString(i), layers.get(i), null,
                        List.of(i == 0 ? Model.INPUT : Integer.toString(i - 1))));
            }
            return specs;
        }

        String output() {
            return layers.isEmpty() ? null : Integer.toString(layers.size() - 1);
        }
    }
}
