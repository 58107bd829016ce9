package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.data.Normalization;
import dev.receptive.tensor.Shape;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model without a backend: its architecture, its parameter and buffer values on the host (or
 * none, for weights drawn from the seed when placed), and what inference needs to know about its
 * data ({@link ModelInfo}). Model files, checkpoints, the command line's {@code info} and Spark's
 * broadcasts carry models as descriptions; {@link #place} puts one on a backend as a
 * {@link Model}, and {@link Model#describe()} takes one back.
 *
 * <p>A description is checked when made: the architecture parses and plans (every shape fits)
 * and the state holds exactly the model's tensors with their shapes, so a description that exists
 * places without surprises, except for memory ({@link #placementBytes()} says how much). Shapes,
 * parameter counts and the summary need no backend and allocate nothing.
 *
 * <p>Immutable and thread-safe; the state's arrays are shared, not copied (do not change them).
 * Serializable (Spark broadcasts it); a deserialized description is checked again as if made anew.
 */
public final class ModelDescription implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final transient String architecture;
    /** Null for weights drawn from the seed when placed. */
    private final transient Map<String, HostTensor> state;
    private final transient ModelInfo info;
    private final transient ModelPlan plan;

    private ModelDescription(String architecture, Map<String, HostTensor> state, ModelInfo info, ModelPlan plan) {
        this.architecture = architecture;
        this.state = state;
        this.info = info;
        this.plan = plan;
    }

    /**
     * A model whose weights are drawn from the architecture's seed when it is placed.
     *
     * @param architecture architecture JSON, as {@link Model#architecture()} writes it
     * @return the description, checked
     * @throws IllegalArgumentException naming the field or node that is wrong
     */
    public static ModelDescription of(String architecture) {
        return make(architecture, null, ModelInfo.NONE);
    }

    /**
     * A model with given parameter and buffer values.
     *
     * @param architecture architecture JSON, as {@link Model#architecture()} writes it
     * @param state exactly the model's entries by state-dict name, as {@link Model#stateDict()} returns them;
     *     the arrays are shared, not copied
     * @param info the data's normalization and class names, {@link ModelInfo#NONE} for none
     * @return the description, checked
     * @throws IllegalArgumentException naming the field, node or state entry that is wrong, or class names that do
     *     not match a flat output
     */
    public static ModelDescription of(String architecture, Map<String, HostTensor> state, ModelInfo info) {
        if (state == null) {
            throw new IllegalArgumentException("model: state must not be null");
        }
        return make(architecture, state, info);
    }

    private static ModelDescription make(String architecture, Map<String, HostTensor> state, ModelInfo info) {
        if (architecture == null) {
            throw new IllegalArgumentException("model: architecture must not be null");
        }
        if (info == null) {
            throw new IllegalArgumentException("model: info must not be null (use ModelInfo.NONE)");
        }
        ModelPlan plan = Architecture.fromJson(architecture).plan();
        Map<String, HostTensor> copy = null;
        if (state != null) {
            plan.checkState(state, "");
            copy = new LinkedHashMap<>();
            for (String name : plan.stateNames()) {
                copy.put(name, state.get(name));
            }
            copy = Collections.unmodifiableMap(copy);
        }
        checkInfo(info, plan.outputShape());
        return new ModelDescription(architecture, copy, info, plan);
    }

    /** Class names must match a flat output's size. */
    static void checkInfo(ModelInfo info, Shape output) {
        if (!info.classNames().isEmpty() && output.rank() == 1 && info.classNames().size() != output.dim(0)) {
            throw new IllegalArgumentException("model: " + info.classNames().size() + " class names for an output of "
                    + output);
        }
    }

    /**
     * This model with other normalization and class names.
     *
     * @param info the new info, {@link ModelInfo#NONE} for none
     * @return a new description sharing the architecture and state
     * @throws IllegalArgumentException when info is null or its class names do not match a flat output
     */
    public ModelDescription withInfo(ModelInfo info) {
        if (info == null) {
            throw new IllegalArgumentException("model: info must not be null (use ModelInfo.NONE)");
        }
        checkInfo(info, plan.outputShape());
        return new ModelDescription(architecture, state, info, plan);
    }

    /**
     * Places the model on a backend: the parameters and buffers are allocated there and filled
     * with this description's values (or drawn from the seed), after the memory they need was
     * compared with what the backend has free.
     *
     * @param backend where the tensors go
     * @return the model; the caller owns it and closes it
     * @throws ModelTooLargeException when the model does not fit the backend's free memory
     * @throws IllegalArgumentException when backend is null
     */
    public Model place(Backend backend) {
        // A plan's layers belong to one model: each placement plans the architecture anew.
        Model model = Model.place(Architecture.fromJson(architecture).plan(), backend, state, "architecture");
        try {
            model.setInfo(info);
        } catch (IllegalArgumentException e) {
            model.close();
            throw e;
        }
        return model;
    }

    /** {@return the architecture JSON} */
    public String architecture() {
        return architecture;
    }

    /** {@return whether the description holds weights (false: they are drawn from the seed when placed)} */
    public boolean hasState() {
        return state != null;
    }

    /**
     * {@return the parameters and buffers by state-dict name, in state-dict order (unmodifiable; empty when the
     * weights are drawn from the seed); the arrays are shared}
     */
    public Map<String, HostTensor> state() {
        return state == null ? Map.of() : state;
    }

    /** {@return the normalization and class names} */
    public ModelInfo info() {
        return info;
    }

    /** {@return the item input shape, without the batch dimension} */
    public Shape inputShape() {
        return plan.inputShape();
    }

    /** {@return the item output shape, without the batch dimension} */
    public Shape outputShape() {
        return plan.outputShape();
    }

    /** {@return the seed of parameter init and dropout masks} */
    public long seed() {
        return plan.seed();
    }

    /** {@return the number of trainable values} */
    public long parameterCount() {
        return plan.parameterCount();
    }

    /** {@return the bytes a placement allocates on its backend: parameters, their gradients and buffers (fp32)} */
    public long placementBytes() {
        return plan.placementBytes();
    }

    /** {@return the bytes of the state's values (4 per float; 0 when drawn from the seed)} */
    public long stateBytes() {
        long n = 0;
        for (HostTensor t : state().values()) {
            n += (long) Float.BYTES * t.data().length;
        }
        return n;
    }

    /** {@return the state-dict names the model has, in order, whether or not this description holds values} */
    public List<String> stateNames() {
        return plan.stateNames();
    }

    /**
     * {@return the nodes, each after its inputs, with their layers' settings and item shapes, as {@link Model#nodes()}
     * (unmodifiable); the layers are planned, never placed: read them, do not add them to a model}
     */
    public List<Node> nodes() {
        return plan.nodes();
    }

    /** {@return the model's table of nodes, output shapes and parameter counts, as {@link Model#summary()}} */
    public String summary() {
        return plan.summary();
    }

    // ---- serialization: a proxy whose reading makes the description anew, every check included ----

    /**
     * Writes the description as its plain values.
     *
     * @return the serialized form
     */
    @Serial
    private Object writeReplace() {
        String[] names = null;
        int[][] shapes = null;
        float[][] values = null;
        if (state != null) {
            names = state.keySet().toArray(new String[0]);
            shapes = new int[names.length][];
            values = new float[names.length][];
            for (int i = 0; i < names.length; i++) {
                shapes[i] = state.get(names[i]).shape().dims();
                values[i] = state.get(names[i]).data();
            }
        }
        Normalization n = info.normalization();
        return new Serialized(architecture, names, shapes, values, n == null ? null : n.mean(),
                n == null ? null : n.std(), info.classNames().toArray(new String[0]));
    }

    /**
     * Refuses a stream that holds the class itself rather than its serialized form (a forged one).
     *
     * @param in the stream
     * @throws InvalidObjectException always
     */
    @Serial
    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("a model description is read through its serialized form");
    }

    /** The serialized form; plain values only. */
    private record Serialized(String architecture, String[] names, int[][] shapes, float[][] values, Double mean,
            Double std, String[] classNames) implements Serializable {
        @Serial
        private Object readResolve() throws InvalidObjectException {
            try {
                ModelInfo info = new ModelInfo(mean == null ? null : new Normalization(mean, std), List.of(classNames));
                if (names == null) {
                    return make(architecture, null, info);
                }
                if (shapes == null || values == null || shapes.length != names.length || values.length != names.length) {
                    throw new IllegalArgumentException("the state's names, shapes and values differ in count");
                }
                Map<String, HostTensor> state = new LinkedHashMap<>();
                for (int i = 0; i < names.length; i++) {
                    state.put(names[i], new HostTensor(Shape.of(shapes[i]), values[i]));
                }
                return make(architecture, state, info);
            } catch (RuntimeException e) {
                InvalidObjectException bad = new InvalidObjectException("model description: " + e.getMessage());
                bad.initCause(e);
                throw bad;
            }
        }
    }
}
