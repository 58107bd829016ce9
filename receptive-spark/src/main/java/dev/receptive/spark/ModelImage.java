package dev.receptive.spark;

import dev.receptive.backend.Backend;
import dev.receptive.data.Normalization;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import dev.receptive.tensor.Shape;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model as plain Java values that Spark can broadcast: the architecture JSON, what inference
 * needs to know about the data, and every parameter and buffer (names, shapes, values). Immutable
 * once made; {@link #build} places a copy on an executor's backend.
 */
public final class ModelImage implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The model's architecture JSON. */
    private final String architecture;
    /** The input normalization's mean, or null when the model records none. */
    private final Double mean;
    /** The input normalization's standard deviation, or null with {@link #mean}. */
    private final Double std;
    /** The class names, empty when unknown. */
    private final List<String> classNames;
    /** The state-dict names of the parameters and buffers, in state-dict order. */
    private final String[] names;
    /** The shape of each tensor of {@link #names}. */
    private final int[][] shapes;
    /** The values of each tensor of {@link #names}, row-major. */
    private final float[][] values;

    private ModelImage(String architecture, ModelInfo info, Map<String, HostTensor> state) {
        this.architecture = architecture;
        this.mean = info.hasNormalization() ? info.normalization().mean() : null;
        this.std = info.hasNormalization() ? info.normalization().std() : null;
        this.classNames = List.copyOf(info.classNames());
        this.names = new String[state.size()];
        this.shapes = new int[state.size()][];
        this.values = new float[state.size()][];
        int i = 0;
        for (Map.Entry<String, HostTensor> e : state.entrySet()) {
            names[i] = e.getKey();
            shapes[i] = e.getValue().shape().dims();
            values[i] = e.getValue().data();
            i++;
        }
    }

    /**
     * The model's architecture, info, parameters and buffers, copied to the host now.
     *
     * @param model an open model; later changes to it are not seen
     * @return the image, holding host copies of every value
     * @throws IllegalStateException when the model is closed
     */
    public static ModelImage of(Model model) {
        return new ModelImage(model.architecture(), model.info(), model.stateDict());
    }

    /**
     * A new model on {@code backend} with these weights and info; the caller closes it.
     *
     * @param backend where the tensors go
     * @return the model, owned by the caller
     * @throws IllegalArgumentException when the architecture, tensors or info do not fit (a damaged image)
     */
    public Model build(Backend backend) {
        Model model = Model.fromArchitecture(architecture, backend, state());
        try {
            model.setInfo(info());
        } catch (IllegalArgumentException e) {
            model.close();
            throw e;
        }
        return model;
    }

    /** {@return the parameters and buffers by name, in state-dict order (the arrays are shared, not copied)} */
    public Map<String, HostTensor> state() {
        Map<String, HostTensor> state = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            state.put(names[i], new HostTensor(Shape.of(shapes[i]), values[i]));
        }
        return state;
    }

    /** {@return the normalization and class names the model was trained with} */
    public ModelInfo info() {
        return new ModelInfo(mean == null ? null : new Normalization(mean, std), new ArrayList<>(classNames));
    }

    /** {@return the model's architecture JSON} */
    public String architecture() {
        return architecture;
    }

    /** {@return the bytes the values take (4 per float): what one broadcast of this image moves} */
    public long valueBytes() {
        long n = 0;
        for (float[] v : values) {
            n += 4L * v.length;
        }
        return n;
    }
}
