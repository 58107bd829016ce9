package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model: layers applied in order, like PyTorch's nn.Sequential. Layers are named by their
 * index, so parameters are "0.weight", "0.bias", "3.weight", ...
 *
 * <pre>
 * try (Sequential model = Sequential.builder().input(1, 28, 28)
 *         .add(Conv2d.builder().filters(32).kernel(5).padding(2).build()).add(new ReLU())
 *         .add(new MaxPool2d(2)).add(new Flatten()).add(Dense.builder().units(10).build())
 *         .seed(42).build(backend)) {
 *     Tensor logits = model.forward(x, Pass.train(step));
 *     model.backward(loss.gradient());
 * }
 * </pre>
 */
public final class Sequential implements AutoCloseable {
    private final Backend backend;
    private final Shape inputShape;
    private final long seed;
    private final List<Layer> layers;
    private final List<Parameter> parameters;
    private boolean closed;

    private Sequential(Backend backend, Shape inputShape, long seed, List<Layer> layers) {
        this.backend = backend;
        this.inputShape = inputShape;
        this.seed = seed;
        this.layers = Collections.unmodifiableList(layers);
        List<Parameter> all = new ArrayList<>();
        for (Layer layer : layers) {
            all.addAll(layer.parameters());
        }
        this.parameters = Collections.unmodifiableList(all);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Rebuilds a model from {@link #architecture()} on {@code backend}, with fresh weights from its seed. */
    public static Sequential fromArchitecture(String json, Backend backend) {
        return Architecture.fromJson(json, backend);
    }

    /** y = model(x). x: (N, inputShape...); returns y: (N, outputShape...), owned by the last layer. */
    public Tensor forward(Tensor x, Pass pass) {
        checkOpen();
        Tensor h = x;
        for (Layer layer : layers) {
            h = layer.forward(h, pass);
        }
        return h;
    }

    /**
     * Backpropagates dLoss = ∂L/∂y of the last forward call through every layer, overwriting each
     * parameter's gradient. dLoss: (N, outputShape...).
     */
    public void backward(Tensor dLoss) {
        checkOpen();
        Tensor dy = dLoss;
        for (int i = layers.size() - 1; i >= 0; i--) {
            dy = layers.get(i).backward(dy);
        }
    }

    public List<Layer> layers() {
        return layers;
    }

    /** Every parameter, in layer order: the order of the state dict. */
    public List<Parameter> parameters() {
        return parameters;
    }

    /** Item input shape, without the batch dimension. */
    public Shape inputShape() {
        return inputShape;
    }

    /** Item output shape, without the batch dimension. */
    public Shape outputShape() {
        return layers.get(layers.size() - 1).outputShape();
    }

    public long seed() {
        return seed;
    }

    public Backend backend() {
        return backend;
    }

    public long parameterCount() {
        long n = 0;
        for (Parameter p : parameters) {
            n += p.shape().size();
        }
        return n;
    }

    /** A table of layers, output shapes and parameter counts, like torchsummary or Keras. */
    public String summary() {
        String format = "%-18s %-20s %12s%n";
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(format, "Layer (type)", "Output shape", "Params"));
        String rule = "=".repeat(52) + System.lineSeparator();
        sb.append(rule);
        sb.append(String.format(format, "input", Layer.batchedString(inputShape), "0"));
        for (Layer layer : layers) {
            long count = 0;
            for (Parameter p : layer.parameters()) {
                count += p.shape().size();
            }
            sb.append(String.format(format, layer.name() + " (" + layer.type() + ")",
                    Layer.batchedString(layer.outputShape()), String.format("%,d", count)));
        }
        sb.append(rule);
        sb.append(String.format("Total params: %,d%n", parameterCount()));
        return sb.toString();
    }

    /** The architecture as JSON (input shape, seed, each layer's type and settings); see {@link #fromArchitecture}. */
    public String architecture() {
        return Architecture.toJson(this);
    }

    /** Every parameter's values by name, in parameter order (PyTorch's state_dict). */
    public LinkedHashMap<String, HostTensor> stateDict() {
        checkOpen();
        LinkedHashMap<String, HostTensor> state = new LinkedHashMap<>();
        for (Parameter p : parameters) {
            state.put(p.name(), new HostTensor(p.shape(), backend.download(p.value())));
        }
        return state;
    }

    /**
     * Loads parameter values by name. Every name and shape is checked first, so on a mismatch
     * nothing changes; the state must hold exactly this model's parameters (PyTorch's strict
     * mode).
     *
     * @throws IllegalArgumentException naming the first missing, unexpected or misshapen entry
     */
    public void loadStateDict(Map<String, HostTensor> state) {
        checkOpen();
        for (Parameter p : parameters) {
            HostTensor t = state.get(p.name());
            if (t == null) {
                throw new IllegalArgumentException("loadStateDict: missing parameter " + p.name() + " of shape "
                        + p.shape());
            }
            if (!t.shape().equals(p.shape())) {
                throw new IllegalArgumentException("loadStateDict: parameter " + p.name() + " expected shape "
                        + p.shape() + " but got " + t.shape());
            }
        }
        if (state.size() != parameters.size()) {
            for (String name : state.keySet()) {
                if (parameters.stream().noneMatch(p -> p.name().equals(name))) {
                    throw new IllegalArgumentException("loadStateDict: unexpected entry " + name
                            + " (this model's parameters: " + parameters.stream().map(Parameter::name).toList() + ")");
                }
            }
        }
        for (Parameter p : parameters) {
            backend.upload(p.value(), state.get(p.name()).data());
        }
    }

    /** Closes every layer's tensors, last layer first. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = layers.size() - 1; i >= 0; i--) {
            layers.get(i).close();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("Sequential: the model is closed");
        }
    }

    /** input and at least one layer are required; seed defaults to 0. */
    public static final class Builder {
        private Shape input;
        private long seed;
        private final List<Layer> layers = new ArrayList<>();

        private Builder() {
        }

        /** Item input shape without the batch dimension: (C, H, W) for images, (F) for vectors. */
        public Builder input(int... dims) {
            this.input = Shape.of(dims);
            return this;
        }

        public Builder add(Layer layer) {
            if (layer == null) {
                throw new IllegalArgumentException("Sequential: layer " + layers.size() + " is null");
            }
            layers.add(layer);
            return this;
        }

        /** Seeds parameter init and dropout masks; the same seed gives the same model. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Infers every shape, then builds each layer on {@code backend}.
         *
         * @throws IllegalArgumentException naming the layer (index and type) and its input shape
         *     when a layer does not fit its input
         */
        public Sequential build(Backend backend) {
            if (input == null) {
                throw new IllegalArgumentException("Sequential: input(...) must be set");
            }
            if (layers.isEmpty()) {
                throw new IllegalArgumentException("Sequential: add at least one layer");
            }
            if (backend == null) {
                throw new IllegalArgumentException("Sequential: backend must not be null");
            }
            // Check every shape before allocating anything, so a misfit leaks nothing.
            Map<Layer, Integer> seen = new IdentityHashMap<>();
            Shape shape = input;
            for (int i = 0; i < layers.size(); i++) {
                Layer layer = layers.get(i);
                Integer before = seen.put(layer, i);
                if (before != null || layer.isBuilt()) {
                    throw new IllegalArgumentException("Sequential: layer " + i + " (" + layer.type() + ") is "
                            + (before != null ? "the same instance as layer " + before : "already built")
                            + "; a layer belongs to one model");
                }
                try {
                    shape = layer.outputShapeFor(shape, i);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("Sequential: " + e.getMessage(), e);
                }
            }
            shape = input;
            for (int i = 0; i < layers.size(); i++) {
                try {
                    layers.get(i).build(backend, shape, i, seed);
                } catch (RuntimeException e) {
                    for (int j = i - 1; j >= 0; j--) {
                        layers.get(j).close();
                    }
                    throw e;
                }
                shape = layers.get(i).outputShape();
            }
            layers.get(0).setInputGradient(false);
            return new Sequential(backend, input, seed, new ArrayList<>(layers));
        }
    }
}
