package dev.receptive.nn;

import dev.receptive.tensor.Shape;
import java.util.List;

/**
 * One node of a {@link Model}: a {@link Layer} with one input or a {@link Merge} with several,
 * the names of the nodes it reads ({@value Model#INPUT} for the model's input) and its item
 * output shape. Nodes are listed in an order where every node comes after its inputs.
 */
public final class Node {
    private final String name;
    private final Layer layer;
    private final Merge merge;
    private final List<String> inputs;
    private final int[] inputIndices;
    private final List<Shape> inputShapes;
    private final Shape outputShape;

    Node(String name, Layer layer, Merge merge, List<String> inputs, int[] inputIndices, List<Shape> inputShapes,
            Shape outputShape) {
        this.name = name;
        this.layer = layer;
        this.merge = merge;
        this.inputs = List.copyOf(inputs);
        this.inputIndices = inputIndices;
        this.inputShapes = List.copyOf(inputShapes);
        this.outputShape = outputShape;
    }

    /** {@return the node's name: "0", "1", ... in a {@link Sequential}; it prefixes its parameters' names} */
    public String name() {
        return name;
    }

    /** {@return the layer, or null for a merge} */
    public Layer layer() {
        return layer;
    }

    /** {@return the merge, or null for a layer} */
    public Merge merge() {
        return merge;
    }

    /** {@return the layer's or merge's type: "Conv2d", "Add", ...} */
    public String type() {
        return layer != null ? layer.type() : merge.type();
    }

    /** {@return the names of the nodes it reads, in order (unmodifiable)} */
    public List<String> inputs() {
        return inputs;
    }

    /** {@return the item output shape, without the batch dimension} */
    public Shape outputShape() {
        return outputShape;
    }

    /** {@return the item shapes of its inputs, in order (unmodifiable)} */
    public List<Shape> inputShapes() {
        return inputShapes;
    }

    /** Positions of the inputs in the model's node list; −1 is the model's input. */
    int[] inputIndices() {
        return inputIndices;
    }

    @Override
    public String toString() {
        return name + " (" + type() + ")";
    }
}
