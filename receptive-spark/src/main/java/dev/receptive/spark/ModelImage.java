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

    private final String architecture;
    private final Double mean;
    private final Double std;
    private final List<String> classNames;
    private final String[] names;
    private final int[][] shapes;
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

    /** The model's architecture, info, parameters and buffers, copied to the host now. */
    public static ModelImage of(Model model) {
        return new ModelImage(model.architecture(), model.info(), model.stateDict());
    }

    /** A new model on {@code backend} with these weights and info; the caller closes it. */
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

    /** The parameters and buffers by name, in state-dict order (the arrays are shared, not copied). */
    public Map<String, HostTensor> state() {
        Map<String, HostTensor> state = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            state.put(names[i], new HostTensor(Shape.of(shapes[i]), values[i]));
        }
        return state;
    }

    /** The normalization and class names the model was trained with. */
    public ModelInfo info() {
        return new ModelInfo(mean == null ? null : new Normalization(mean, std), new ArrayList<>(classNames));
    }

    public String architecture() {
        return architecture;
    }

    /** The bytes the values take (4 per float): what one broadcast of this image moves. */
    public long valueBytes() {
        long n = 0;
        for (float[] v : values) {
            n += 4L * v.length;
        }
        return n;
    }
}
