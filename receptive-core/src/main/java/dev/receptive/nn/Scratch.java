package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Tensors one layer keeps between its forward and backward pass in one {@link Workspace}, such as
 * batch norm's saved mean: made on first use, kept while the shape stays, closed with the
 * workspace. Layers hold no per-call tensors of their own, so one model can run in many
 * workspaces at once.
 */
public final class Scratch {
    private final Backend backend;
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    Scratch(Backend backend) {
        this.backend = backend;
    }

    /**
     * The tensor named {@code key} with {@code shape}: the same one as last time when the shape
     * is unchanged (its contents kept), else a new zero tensor.
     *
     * @param key unique within the layer, e.g. "mean"
     * @param shape the shape wanted
     * @return the tensor, owned by the workspace (do not close it)
     */
    public Tensor tensor(String key, Shape shape) {
        Tensor t = tensors.get(key);
        if (t != null && t.shape().equals(shape)) {
            return t;
        }
        if (t != null) {
            t.close();
        }
        t = backend.allocate(shape);
        tensors.put(key, t);
        return t;
    }

    void close() {
        for (Tensor t : tensors.values()) {
            t.close();
        }
        tensors.clear();
    }
}
