package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.nn.init.Init;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One step of a model with one input: configuration, parameters and buffers, like a PyTorch
 * module. A layer holds no per-call tensors: its activations and gradients live in the
 * {@link Workspace} that runs it, so one model can run in several workspaces at once.
 *
 * <p>A layer is configured when constructed, then added to one model, which names it ("0",
 * "conv1"), infers its item shapes (without the batch dimension: (C, H, W) or (F)) and lets it
 * declare its parameters and buffers, and only then allocates them. Subclasses implement the
 * protected hooks with {@link Backend} ops only; the model checks shapes before calling them.
 *
 * <p>A custom layer: extend this class, give it a {@link #type()} (its class name by default) and
 * its settings as a record returned by {@link #settings()}, and register the record type and a
 * factory with {@link Layers#register(String, Class, java.util.function.Function)} so saved
 * models that contain it can be loaded. The built-in layers do the same: their settings records
 * are the one place a setting is declared, checked, written and read.
 *
 * <p>Thread-safety: after building, the hooks may run concurrently in different workspaces; they
 * must read the layer's fields and parameters only (never write them) in forward, and in backward
 * write only the parameter gradients (adding to them).
 */
public abstract class Layer {
    private String name;
    private int stream = -1;
    private long seed;
    private Shape inputShape;
    private Shape outputShape;
    private Backend backend;
    private final List<Parameter> parameters = new ArrayList<>();
    private final List<Buffer> buffers = new ArrayList<>();
    private boolean closed;

    /** Subclasses take their settings in their constructors or builders. */
    protected Layer() {
    }

    // ---- hooks --------------------------------------------------------------------------

    /**
     * Checks that this layer accepts item input {@code in} and returns its item output shape.
     *
     * @param in the item input shape, without the batch dimension: (C, H, W) or (F)
     * @return the item output shape, without the batch dimension
     * @throws IllegalArgumentException saying what does not fit, with the numbers (the model adds
     *     the layer's name and the input shape)
     */
    protected abstract Shape inferOutputShape(Shape in);

    /**
     * Declares the parameters and buffers through {@link #addParameter}, {@link #addZeroParameter}
     * and {@link #addBuffer}; called once, after the shapes are known ({@link #inputShape()}) and
     * before any memory is allocated.
     */
    protected void createParameters() {
    }

    /**
     * Writes y = layer(x), overwriting y.
     *
     * @param y output (N, outputShape...), owned by the workspace
     * @param x input (N, inputShape...), read only
     * @param pass training (with its step, for dropout) or evaluation
     * @param scratch this layer's tensors in this workspace, kept for the backward call
     */
    protected abstract void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch);

    /**
     * Given dy = ∂L/∂y of the forward call that wrote y from x with {@code pass}, adds the
     * parameter gradients into each {@link Parameter#grad()} (the backend ops' accumulate = true)
     * and, unless dx is null, writes dx = ∂L/∂x (overwriting it).
     *
     * @param dx output (N, inputShape...), or null when no one needs it (the first layer)
     * @param dy gradient of the output (N, outputShape...)
     * @param x the forward call's input (N, inputShape...)
     * @param y the forward call's output (N, outputShape...)
     * @param pass the forward call's pass
     * @param scratch the same tensors the forward call saw
     */
    protected abstract void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch);

    /**
     * {@return the layer's settings as a record whose components architecture JSON holds by name, or null for a
     * layer without settings (or one that writes them itself in {@link #writeConfig})}
     */
    public Record settings() {
        return null;
    }

    /**
     * Writes this layer's settings for architecture JSON: by default the components of
     * {@link #settings()}, nothing when it is null. Override only for settings that are not a record.
     *
     * @param config the layer's entry, which its factory in {@link Layers} reads back
     */
    protected void writeConfig(LayerConfig config) {
        Record settings = settings();
        if (settings != null) {
            config.putRecord(settings);
        }
    }

    /** {@return the layer's type as written in architecture JSON and messages: by default the class's simple name} */
    public String type() {
        return getClass().getSimpleName();
    }

    // ---- declaring parameters and buffers -----------------------------------------------

    /**
     * Declares a parameter named "layerName.localName" drawn by {@code init} (seeded from the
     * model seed and the name) when the model is built fresh.
     *
     * @param localName the name within the layer, e.g. "weight"
     * @param shape the tensor's shape, e.g. (K, C, R, S)
     * @param init how the values are drawn
     * @param fanIn inputs per output unit, as {@link Init#initialize} takes it (C·R·S for a convolution)
     * @param fanOut outputs per input unit (K·R·S for a convolution)
     * @return the parameter, whose tensors exist once the model is built
     * @throws IllegalArgumentException when init is null
     * @throws IllegalStateException outside {@link #createParameters()}
     */
    protected final Parameter addParameter(String localName, Shape shape, Init init, int fanIn, int fanOut) {
        if (init == null) {
            throw new IllegalArgumentException(describe() + ": parameter " + localName + " needs an init");
        }
        return declare(new Parameter(qualified(localName), shape, init, fanIn, fanOut, 0f));
    }

    /**
     * Declares a parameter named "layerName.localName" that starts at zero (biases).
     *
     * @param localName the name within the layer, e.g. "bias"
     * @param shape the tensor's shape
     * @return the parameter, whose tensors exist once the model is built
     * @throws IllegalStateException outside {@link #createParameters()}
     */
    protected final Parameter addZeroParameter(String localName, Shape shape) {
        return addConstantParameter(localName, shape, 0f);
    }

    /**
     * Declares a parameter named "layerName.localName" whose every value starts at {@code value} (batch norm's scale: 1).
     *
     * @param localName the name within the layer, e.g. "weight"
     * @param shape the tensor's shape
     * @param value every element's starting value
     * @return the parameter, whose tensors exist once the model is built
     * @throws IllegalStateException outside {@link #createParameters()}
     */
    protected final Parameter addConstantParameter(String localName, Shape shape, float value) {
        return declare(new Parameter(qualified(localName), shape, null, 0, 0, value));
    }

    /**
     * Declares a buffer named "layerName.localName" whose elements all start at {@code initial}.
     *
     * @param localName the name within the layer, e.g. "running_mean"
     * @param shape the tensor's shape
     * @param initial every element's starting value
     * @return the buffer, whose tensor exists once the model is built
     * @throws IllegalStateException outside {@link #createParameters()}
     */
    protected final Buffer addBuffer(String localName, Shape shape, float initial) {
        if (inputShape == null || backend != null) {
            throw new IllegalStateException(describe() + ": buffers are declared in createParameters()");
        }
        Buffer b = new Buffer(qualified(localName), shape, initial);
        buffers.add(b);
        return b;
    }

    private Parameter declare(Parameter p) {
        if (inputShape == null || backend != null) {
            throw new IllegalStateException(describe() + ": parameters are declared in createParameters()");
        }
        parameters.add(p);
        return p;
    }

    private String qualified(String localName) {
        return name + "." + localName;
    }

    // ---- what a built layer knows -------------------------------------------------------

    /**
     * {@return the node name in its model: "0", "1", ... in a {@link Sequential}, or the graph node's name}
     *
     * @throws IllegalStateException when the layer is not part of a model yet
     */
    public final String name() {
        checkPlanned();
        return name;
    }

    /** {@return whether the layer belongs to a model (its shapes are known)} */
    public final boolean isBuilt() {
        return inputShape != null;
    }

    /**
     * {@return the backend the layer's tensors live on, the model's}
     *
     * @throws IllegalStateException when the layer is not part of a model yet
     */
    public final Backend backend() {
        if (backend == null) {
            throw new IllegalStateException(describe() + " is not built; add it to a model");
        }
        return backend;
    }

    /** {@return the model seed; with the parameter name it seeds each init, with {@link #stream()} dropout} */
    protected final long seed() {
        return seed;
    }

    /** {@return a number unique to this layer in its model (its position), used as the dropout stream} */
    protected final int stream() {
        checkPlanned();
        return stream;
    }

    /**
     * {@return the item input shape, without the batch dimension}
     *
     * @throws IllegalStateException when the layer is not part of a model yet
     */
    public final Shape inputShape() {
        checkPlanned();
        return inputShape;
    }

    /**
     * {@return the item output shape, without the batch dimension}
     *
     * @throws IllegalStateException when the layer is not part of a model yet
     */
    public final Shape outputShape() {
        checkPlanned();
        return outputShape;
    }

    /** {@return the parameters, in declaration order (unmodifiable; empty before the layer is part of a model)} */
    public final List<Parameter> parameters() {
        return Collections.unmodifiableList(parameters);
    }

    /** {@return the buffers, in declaration order (unmodifiable; empty before the layer is part of a model)} */
    public final List<Buffer> buffers() {
        return Collections.unmodifiableList(buffers);
    }

    // ---- life cycle, driven by Model ----------------------------------------------------

    /**
     * Names the layer, infers its output shape and declares its parameters; allocates nothing.
     *
     * @throws IllegalArgumentException naming the layer and input when they do not fit
     */
    final Shape plan(String name, int stream, Shape in, long seed) {
        if (inputShape != null || closed) {
            throw new IllegalArgumentException("layer " + describe() + " is already part of a model; a layer belongs"
                    + " to one model");
        }
        Shape out = outputShapeFor(in, name);
        this.name = name;
        this.stream = stream;
        this.seed = seed;
        this.inputShape = in;
        this.outputShape = out;
        createParameters();
        return out;
    }

    /** The item output shape for item input {@code in}; a misfit names the layer and {@code in}. */
    final Shape outputShapeFor(Shape in, String at) {
        try {
            return inferOutputShape(in);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("layer " + at + " (" + type() + ") with input " + in + ": "
                    + e.getMessage(), e);
        }
    }

    final void attach(Backend backend) {
        this.backend = backend;
    }

    final void forward(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        forwardInternal(y, x, pass, scratch);
    }

    final void backward(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        backwardInternal(dx, dy, x, y, pass, scratch);
    }

    // ---- fused with a following ReLU (see ModelPlan#reluFusions) ------------------------------

    /** Whether this layer can apply a ReLU as it writes its output: {@link #forwardRelu} and {@link #backwardRelu}. */
    boolean fusesRelu() {
        return false;
    }

    /** y = max(0, layer(x)), overwriting y: the forward call of this layer and the ReLU that reads it. */
    void forwardRelu(Tensor y, Tensor x, Pass pass, Scratch scratch) {
        throw new UnsupportedOperationException(describe() + " fuses no ReLU");
    }

    /**
     * The backward call of this layer and the ReLU after it: given dy = ∂L/∂y of y =
     * {@link #forwardRelu}(x), writes dz (the gradient before the ReLU), adds the parameter
     * gradients and, unless dx is null, writes dx.
     */
    void backwardRelu(Tensor dx, Tensor dz, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        throw new UnsupportedOperationException(describe() + " fuses no ReLU");
    }

    // ---- fused with an add and a ReLU after it (see ModelPlan#addReluFusions) ------------------

    /**
     * Whether this layer can add a second tensor and apply a ReLU as it writes its output,
     * y = max(0, layer(x) + shortcut): {@link #forwardAddRelu}; the backward call is
     * {@link #backwardRelu} with that y, whose dz is the shortcut's gradient too.
     */
    boolean fusesAddRelu() {
        return false;
    }

    /** y = max(0, layer(x) + shortcut), overwriting y: this layer, the add that reads it, and the ReLU after the add. */
    void forwardAddRelu(Tensor y, Tensor x, Tensor shortcut, Pass pass, Scratch scratch) {
        throw new UnsupportedOperationException(describe() + " fuses no add and ReLU");
    }

    final void config(LayerConfig config) {
        writeConfig(config);
    }

    /** Frees the parameters and buffers, in reverse order of declaration. */
    final void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = buffers.size() - 1; i >= 0; i--) {
            buffers.get(i).release();
        }
        for (int i = parameters.size() - 1; i >= 0; i--) {
            parameters.get(i).release();
        }
    }

    final boolean isClosed() {
        return closed;
    }

    private void checkPlanned() {
        if (inputShape == null) {
            throw new IllegalStateException(describe() + " is not built; add it to a model");
        }
    }

    /** "0 (Conv2d)" once named, else "(Conv2d)". */
    final String describe() {
        return name == null ? "(" + type() + ")" : name + " (" + type() + ")";
    }
}
