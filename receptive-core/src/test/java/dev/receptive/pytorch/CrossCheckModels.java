package dev.receptive.pytorch;

import dev.receptive.backend.Backend;
import dev.receptive.io.ModelFile;
import dev.receptive.io.Safetensors;
import dev.receptive.io.TensorData;
import dev.receptive.nn.Add;
import dev.receptive.nn.AvgPool2d;
import dev.receptive.nn.BatchNorm1d;
import dev.receptive.nn.Concat;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.Graph;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.Model;
import dev.receptive.nn.Softmax;
import dev.receptive.nn.Tanh;
import dev.receptive.tensor.Shape;
import dev.receptive.zoo.Zoo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The models and inputs of the PyTorch cross-check, the same bits on every machine: the zoo's
 * seednet and resnet8 and a small graph of every other layer and merge, each with its whole
 * state (parameters, and batch norm's running statistics) drawn from {@link java.util.Random},
 * whose generator its specification fixes, by integer arithmetic and one correctly rounded
 * square root. So the committed PyTorch outputs stay valid when the zoo's initialization
 * changes, and only a change of architecture or of state names makes them stale.
 */
final class CrossCheckModels {
    /** The models, by the name their files carry. */
    static final List<String> NAMES = List.of("seednet", "resnet8", "graph");
    /** Items per input batch. */
    static final int ITEMS = 4;

    private CrossCheckModels() {
    }

    /** The model called {@code name}, its state generated (see the class comment). */
    static Model build(String name, Backend backend) {
        Model model = switch (name) {
            case "seednet", "resnet8" -> Zoo.build(name, backend, 1);
            case "graph" -> graph().build(backend);
            default -> throw new IllegalArgumentException("no cross-check model " + name);
        };
        try {
            model.loadStateDict(state(model, name.hashCode()));
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Every layer and merge the zoo's networks leave out: a 1×1 and a dilated conv, a channel
     * concat, a residual add, tanh, average pooling with padding (PyTorch counts the padding in
     * the average, as Receptive does), a softmax over a whole map (the recipe's FlatSoftmax) and
     * BatchNorm1d with its own eps.
     */
    private static Graph.Builder graph() {
        return Graph.builder().input(3, 8, 8)
                .add("a", Conv2d.builder().filters(4).kernel(3).padding(1).build(), Model.INPUT)
                .add("b", Conv2d.builder().filters(2).kernel(1).build(), Model.INPUT)
                .add("cat", new Concat(), "a", "b")
                .add("c", Conv2d.builder().filters(3).kernel(3).padding(2).dilation(2).build(), "cat")
                .add("add", new Add(), "c", Model.INPUT)
                .add("tanh", new Tanh(), "add")
                .add("avg", new AvgPool2d(3, 1, 1), "tanh")
                .add("max", new MaxPool2d(2), "avg")
                .add("softmax", new Softmax(), "max")
                .add("flat", new Flatten(), "softmax")
                .add("bn", new BatchNorm1d(1e-3, 0.1), "flat")
                .output("bn");
    }

    /**
     * Values for every entry of the model's state dict: weights uniform in ±√(6 / fan-in) (He's
     * bound, so that activations keep their size through the layers), biases (batch norm's shifts
     * too) in ±0.2, batch norm scales in [0.5, 1.5], running means in ±0.2 and variances in
     * [0.5, 2], each a multiple of 1/1000 of its range drawn from a Random of its own.
     */
    private static Map<String, HostTensor> state(Model model, long seed) {
        Map<String, HostTensor> state = new LinkedHashMap<>();
        model.stateDict().forEach((name, t) -> {
            Random random = new Random(seed * 31 + name.hashCode());
            Shape shape = t.shape();
            float[] v = new float[shape.size()];
            String local = name.substring(name.lastIndexOf('.') + 1);
            for (int i = 0; i < v.length; i++) {
                double u = random.nextInt(2001) / 1000.0 - 1; // in [−1, 1], steps of 1/1000
                v[i] = (float) switch (local) {
                    case "weight" -> shape.rank() >= 2 ? u * Math.sqrt(6.0 / (v.length / shape.dim(0))) : 1 + u / 2;
                    case "bias" -> 0.2 * u;
                    case "running_mean" -> 0.2 * u;
                    case "running_var" -> 1.25 + 0.75 * u;
                    case "num_batches_tracked" -> 3;
                    default -> throw new IllegalStateException("no rule for state entry " + name);
                };
            }
            state.put(name, new HostTensor(shape, v));
        });
        return state;
    }

    /** ITEMS items of the model's input shape, uniform in [−1, 1] in steps of 1/1000. */
    static float[] input(String name, Shape item) {
        Random random = new Random(name.hashCode());
        float[] x = new float[ITEMS * item.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextInt(2001) / 1000.0 - 1);
        }
        return x;
    }

    /** Writes NAME.model.safetensors and NAME.input.safetensors ("x") of every model into dir, for crosscheck.py. */
    static void writeForPyTorch(Path dir, Backend backend) throws IOException {
        for (String name : NAMES) {
            try (Model model = build(name, backend)) {
                ModelFile.save(dir.resolve(name + ".model.safetensors"), model);
                Safetensors.write(dir.resolve(name + ".input.safetensors"),
                        Map.of("x", new TensorData(batched(model.inputShape()), input(name, model.inputShape()))),
                        Map.of());
            }
        }
    }

    /** (ITEMS, item dims...). */
    static int[] batched(Shape item) {
        int[] dims = new int[item.rank() + 1];
        dims[0] = ITEMS;
        System.arraycopy(item.dims(), 0, dims, 1, item.rank());
        return dims;
    }
}
