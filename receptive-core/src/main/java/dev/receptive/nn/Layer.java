package dev.receptive.nn;

import com.google.gson.JsonObject;
import dev.receptive.backend.Backend;
import dev.receptive.nn.init.Init;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One step of a model. A layer is configured when constructed, then built once for a backend
 * and an item input shape (without the batch dimension: (C, H, W) or (F)); building infers the
 * output shape and creates the parameters. {@link #forward} and {@link #backward} check shapes,
 * then call the protected hooks, which only call {@link Backend} ops.
 *
 * <p>The layer owns its output y and input gradient dx: they are allocated once per batch size
 * and reused, so they stay valid until the next call with the same batch size. Backward reads
 * the x of the last forward call, which the caller must leave untouched until then.
 */
public abstract class Layer implements AutoCloseable {
    private Backend backend;
    private int index = -1;
    private long seed;
    private Shape inputShape;
    private Shape outputShape;
    private final List<Parameter> parameters = new ArrayList<>();
    private boolean inputGradient = true;
    private boolean closed;
    private Tensor x;
    private Tensor y;
    private Tensor dx;

    /**
     * Builds this layer: its name is its index in the model ("0", "1", ... like nn.Sequential),
     * which also names its parameters ("0.weight") and is the dropout stream; {@code seed} seeds
     * the parameter init and dropout.
     *
     * @throws IllegalArgumentException naming the layer and the input shape when it does not fit
     * @throws IllegalStateException when the layer was built before
     */
    public final void build(Backend backend, Shape inputShape, int index, long seed) {
        if (this.backend != null || closed) {
            throw new IllegalStateException(describe() + " is already built; a layer belongs to one model");
        }
        if (index < 0) {
            throw new IllegalArgumentException(type() + ": index must be >= 0, got " + index);
        }
        this.index = index;
        Shape out = outputShapeFor(inputShape, index);
        this.backend = backend;
        this.seed = seed;
        this.inputShape = inputShape;
        this.outputShape = out;
        try {
            createParameters();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The item output shape for item input {@code in}; the message of a misfit names the layer and {@code in}. */
    final Shape outputShapeFor(Shape in, int at) {
        try {
            return inferOutputShape(in);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("layer " + at + " (" + type() + ") with input " + in + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * y = layer(x) for a batch x: (N, inputShape...). Returns y: (N, outputShape...), owned by
     * this layer.
     */
    public final Tensor forward(Tensor x, Pass pass) {
        checkBuilt();
        if (pass == null) {
            throw new IllegalArgumentException(describe() + ": pass must be Pass.train(step) or Pass.EVAL, not null");
        }
        Shape s = x.shape();
        if (!isBatchOf(s, inputShape)) {
            throw new IllegalArgumentException(describe() + ": expected input " + batchedString(inputShape)
                    + " but got " + s);
        }
        int n = s.dim(0);
        if (y == null || y.shape().dim(0) != n) {
            releaseBatch();
            y = backend.allocate(batched(n, outputShape));
        }
        this.x = x;
        forwardInternal(y, x, pass);
        return y;
    }

    /**
     * Given dy = ∂L/∂y of the last forward call, fills the parameter gradients (overwriting
     * them) and returns dx = ∂L/∂x, owned by this layer — or null when this layer was told to
     * skip it (the first layer of a model).
     */
    public final Tensor backward(Tensor dy) {
        checkBuilt();
        if (x == null) {
            throw new IllegalStateException(describe() + ": backward called before forward");
        }
        if (!dy.shape().equals(y.shape())) {
            throw new IllegalArgumentException(describe() + ": expected gradient " + y.shape() + " but got " + dy.shape());
        }
        if (inputGradient && dx == null) {
            dx = backend.allocate(x.shape());
        }
        Tensor target = inputGradient ? dx : null;
        backwardInternal(target, dy, x, y);
        return target;
    }

    /**
     * Checks that this layer accepts item input {@code in} and returns its item output shape.
     *
     * @throws IllegalArgumentException saying what does not fit, with the numbers
     */
    protected abstract Shape inferOutputShape(Shape in);

    /** Creates the parameters through {@link #addParameter}; called once by build. */
    protected void createParameters() {
    }

    /** Writes y = layer(x). y: (N, outputShape...); x: (N, inputShape...). */
    protected abstract void forwardInternal(Tensor y, Tensor x, Pass pass);

    /**
     * Writes the parameter gradients and, unless dx is null, dx. dx, x: (N, inputShape...);
     * dy, y: (N, outputShape...).
     */
    protected abstract void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y);

    /** Writes this layer's settings for architecture JSON; layers without settings write nothing. */
    protected void writeConfig(JsonObject config) {
    }

    /** A parameter named "index.localName" drawn by {@code init}, seeded from the model seed and that name. */
    protected final Parameter addParameter(String localName, Shape shape, Init init, int fanIn, int fanOut) {
        String name = name() + "." + localName;
        float[] values = new float[shape.size()];
        init.initialize(values, fanIn, fanOut, new SplittableRandom(mix(seed ^ mix(name.hashCode()))));
        return register(name, backend.upload(values, shape));
    }

    /** A parameter named "index.localName" starting at zero (biases). */
    protected final Parameter addZeroParameter(String localName, Shape shape) {
        return register(name() + "." + localName, backend.allocate(shape));
    }

    private Parameter register(String name, Tensor value) {
        Tensor grad;
        try {
            grad = backend.allocate(value.shape());
        } catch (RuntimeException e) {
            value.close();
            throw e;
        }
        Parameter p = new Parameter(name, value, grad);
        parameters.add(p);
        return p;
    }

    /** The layer's type as written in architecture JSON and messages: the class's simple name. */
    public String type() {
        return getClass().getSimpleName();
    }

    /** "0", "1", ...: the index in the model. */
    public final String name() {
        checkBuilt();
        return Integer.toString(index);
    }

    public final int index() {
        checkBuilt();
        return index;
    }

    public final boolean isBuilt() {
        return backend != null;
    }

    public final Backend backend() {
        checkBuilt();
        return backend;
    }

    /** The model seed this layer was built with. */
    protected final long seed() {
        return seed;
    }

    /** Item input shape, without the batch dimension. */
    public final Shape inputShape() {
        checkBuilt();
        return inputShape;
    }

    /** Item output shape, without the batch dimension. */
    public final Shape outputShape() {
        checkBuilt();
        return outputShape;
    }

    public final List<Parameter> parameters() {
        return Collections.unmodifiableList(parameters);
    }

    /** Whether backward computes dx; the first layer of a model skips it (nothing consumes it). */
    final void setInputGradient(boolean needed) {
        this.inputGradient = needed;
        if (!needed && dx != null) {
            dx.close();
            dx = null;
        }
    }

    /** Frees the batch tensors and the parameters, in reverse order of creation. */
    @Override
    public final void close() {
        if (closed) {
            return;
        }
        closed = true;
        releaseBatch();
        for (int i = parameters.size() - 1; i >= 0; i--) {
            parameters.get(i).grad().close();
            parameters.get(i).value().close();
        }
        x = null;
    }

    private void releaseBatch() {
        if (dx != null) {
            dx.close();
            dx = null;
        }
        if (y != null) {
            y.close();
            y = null;
        }
    }

    private void checkBuilt() {
        if (closed) {
            throw new IllegalStateException(describe() + " is closed");
        }
        if (backend == null) {
            throw new IllegalStateException(describe() + " is not built; add it to a Sequential or call build()");
        }
    }

    private String describe() {
        return index < 0 ? "layer (" + type() + ")" : "layer " + index + " (" + type() + ")";
    }

    private static boolean isBatchOf(Shape s, Shape item) {
        if (s.rank() != item.rank() + 1) {
            return false;
        }
        for (int i = 0; i < item.rank(); i++) {
            if (s.dim(i + 1) != item.dim(i)) {
                return false;
            }
        }
        return true;
    }

    /** (n, item...). */
    static Shape batched(int n, Shape item) {
        int[] d = new int[item.rank() + 1];
        d[0] = n;
        for (int i = 0; i < item.rank(); i++) {
            d[i + 1] = item.dim(i);
        }
        return Shape.of(d);
    }

    /** "(N, 1, 28, 28)". */
    static String batchedString(Shape item) {
        StringBuilder sb = new StringBuilder("(N");
        for (int i = 0; i < item.rank(); i++) {
            sb.append(", ").append(item.dim(i));
        }
        return sb.append(')').toString();
    }

    /** MurmurHash3's 64-bit finalizer: spreads the seed so nearby seeds give unrelated streams. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }
}
