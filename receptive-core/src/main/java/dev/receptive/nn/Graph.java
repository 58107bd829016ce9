package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Builds a {@link Model} whose nodes name their inputs: any directed acyclic graph with one input
 * and one output, such as a residual block.
 *
 * <pre>
 * Model block = Graph.builder().input(8, 28, 28)
 *         .add("conv1", Conv2d.builder().filters(8).kernel(3).padding(1).build(), Model.INPUT)
 *         .add("relu1", new ReLU(), "conv1")
 *         .add("conv2", Conv2d.builder().filters(8).kernel(3).padding(1).build(), "relu1")
 *         .add("sum", new Add(), "conv2", Model.INPUT)
 *         .add("out", new ReLU(), "sum")
 *         .output("out").seed(1).build(backend);
 * </pre>
 *
 * Node names become the prefixes of parameter names ("conv1.weight"), as a PyTorch module's
 * attribute names do; dots nest them ("layer1.0.conv1").
 */
public final class Graph {
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*");

    private Graph() {
    }

    /** {@return a new graph builder} */
    public static Builder builder() {
        return new Builder();
    }

    /** A node as declared: a layer or a merge, and the names of its inputs. */
    record Spec(String name, Layer layer, Merge merge, List<String> inputs) {
    }

    /** input, at least one node and the output are required; the seed defaults to 0. */
    public static final class Builder {
        private Shape input;
        private long seed;
        private String output;
        private final List<Spec> nodes = new ArrayList<>();
        private final Set<String> names = new HashSet<>();

        Builder() {
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
         * Adds a layer named {@code name} reading the node {@code input}; nodes may be added in any order.
         *
         * @param name letters, digits and '_' in dot-separated parts, unique, not {@value Model#INPUT}; it
         *     prefixes the layer's parameter names
         * @param layer a new layer, not part of another model (the model then owns it)
         * @param input the node it reads, or {@value Model#INPUT} for the model's input
         * @return this builder
         * @throws IllegalArgumentException when the name is malformed or taken, or layer or input is null
         */
        public Builder add(String name, Layer layer, String input) {
            if (layer == null) {
                throw new IllegalArgumentException("Graph: node '" + name + "' has a null layer");
            }
            return node(new Spec(name, layer, null, List.of(input)));
        }

        /**
         * Adds a merge named {@code name} of two or more nodes.
         *
         * @param name letters, digits and '_' in dot-separated parts, unique, not {@value Model#INPUT}
         * @param merge the merge, e.g. {@code new Add()}
         * @param inputs the nodes it reads, in order, at least two ({@value Model#INPUT} for the model's input)
         * @return this builder
         * @throws IllegalArgumentException when the name is malformed or taken, merge or an input is null, or
         *     there are fewer than two inputs
         */
        public Builder add(String name, Merge merge, String... inputs) {
            if (merge == null) {
                throw new IllegalArgumentException("Graph: node '" + name + "' has a null merge");
            }
            if (inputs.length < 2) {
                throw new IllegalArgumentException("Graph: merge node '" + name + "' (" + merge.type()
                        + ") needs at least two inputs, got " + Arrays.toString(inputs));
            }
            return node(new Spec(name, null, merge, List.of(inputs)));
        }

        private Builder node(Spec spec) {
            String name = spec.name();
            if (name == null || !NAME.matcher(name).matches() || name.equals(Model.INPUT)) {
                throw new IllegalArgumentException("Graph: node name '" + name + "' must be letters, digits and '_' in"
                        + " dot-separated parts, and not '" + Model.INPUT + "'");
            }
            if (names.contains(name)) {
                throw new IllegalArgumentException("Graph: two nodes are named '" + name + "'");
            }
            for (String in : spec.inputs()) {
                if (in == null) {
                    throw new IllegalArgumentException("Graph: node '" + name + "' has a null input");
                }
            }
            nodes.add(spec);
            names.add(name);
            return this;
        }

        /**
         * Names the node whose output is the model's output (required); checked by {@link #build}.
         *
         * @param name a node added to this builder
         * @return this builder
         */
        public Builder output(String name) {
            this.output = name;
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
         * Checks the graph and every shape, then allocates and initializes the parameters on
         * {@code backend}.
         *
         * @param backend where the tensors go
         * @return the model; the caller owns it and closes it
         * @throws IllegalArgumentException naming the node, its inputs and their shapes when a
         *     node does not fit, or what is wrong with the graph (an unknown input, a cycle, a
         *     node that does not lead to the output)
         */
        public Model build(Backend backend) {
            return Model.build(input, nodes, output, seed, backend, "Graph");
        }

        /**
         * Checks the graph and every shape like {@link #build}, but places nothing: the model as a
         * description with the given weights, for readers of other formats that make a model
         * without a backend. The layers then belong to that description's plan.
         *
         * @param state exactly the model's parameters and buffers by state-dict name; the arrays are shared
         * @param info the data's normalization and class names, {@link ModelInfo#NONE} for none
         * @return the description, checked as {@link ModelDescription#of(String, Map, ModelInfo)} checks
         * @throws IllegalArgumentException as {@link #build} does, or naming the state entry that is missing,
         *     unexpected or misshapen
         */
        public ModelDescription describe(Map<String, HostTensor> state, ModelInfo info) {
            return ModelDescription.of(Architecture.toJson(ModelPlan.of(input, nodes, output, seed, "Graph")), state,
                    info);
        }
    }
}
