package dev.receptive.onnx;

import dev.receptive.backend.Backend;
import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Split;
import dev.receptive.nn.Add;
import dev.receptive.nn.AvgPool2d;
import dev.receptive.nn.BatchNorm1d;
import dev.receptive.nn.BatchNorm2d;
import dev.receptive.nn.Concat;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Dropout;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.GlobalAvgPool2d;
import dev.receptive.nn.Graph;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sigmoid;
import dev.receptive.nn.Softmax;
import dev.receptive.nn.Tanh;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.testing.TestBackends;
import dev.receptive.train.TrainingStep;
import dev.receptive.zoo.Zoo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The models the ONNX tests export: the zoo's networks and a graph of every other layer and
 * merge, each trained for a few SGD steps on the committed Fashion-MNIST images, so that weights
 * and batch norm's running statistics are a trained model's, not their initial values.
 */
final class OnnxTestModels {
    /** The zoo's networks and "graph". */
    static final List<String> NAMES = List.of("seednet", "resnet8", "resnet14", "resnet20", "graph");
    private static final int STEPS = 6;
    private static final int BATCH = 32;
    private static Dataset train;
    private static Dataset test;
    private static final Map<String, ModelDescription> TRAINED = new HashMap<>();

    private OnnxTestModels() {
    }

    static synchronized Dataset train() {
        if (train == null) {
            train = load(Path.of("test-data", "fashion-mnist-2k-train"), Split.TRAIN);
        }
        return train;
    }

    /** The 1,000 committed test images, normalized as the training images are. */
    static synchronized Dataset test() {
        if (test == null) {
            test = load(Path.of("test-data", "fashion-mnist-1k"), Split.TEST);
        }
        return test;
    }

    private static Dataset load(Path dir, Split split) {
        try {
            return FashionMnist.load(dir, split);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The model called {@code name}, trained for a few steps on the CPU, with Fashion-MNIST's
     * normalization and class names; trained once per test JVM and shared by the tests.
     */
    static synchronized ModelDescription trained(String name) {
        ModelDescription model = TRAINED.get(name);
        if (model == null) {
            try (Backend cpu = TestBackends.cpu(); Model m = train(name, cpu)) {
                model = m.describe();
            }
            TRAINED.put(name, model);
        }
        return model;
    }

    private static Model train(String name, Backend backend) {
        Model model = name.equals("graph") ? graph().build(backend) : Zoo.build(name, backend, 7);
        try (Loss loss = Loss.softmaxCrossEntropy();
                Optimizer sgd = Optimizer.sgd(0.05).momentum(0.9).build();
                TrainingStep step = new TrainingStep(model, loss, sgd, LrSchedule.constant(), 1)) {
            Dataset data = train();
            int item = data.itemShape().size();
            float[] images = new float[BATCH * item];
            float[] labels = new float[BATCH];
            for (int s = 0; s < STEPS; s++) {
                for (int i = 0; i < BATCH; i++) {
                    data.copyImage(s * BATCH + i, images, i * item);
                    labels[i] = data.label(s * BATCH + i);
                }
                step.start(0, (double) s / STEPS);
                step.gradients(images, labels, BATCH, s, 0, 1f, null);
                step.update();
            }
            model.setInfo(new ModelInfo(data.normalization(), data.classNames()));
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Every layer and merge the zoo leaves out, on 1×28×28 images: a dilated and a 1×1 conv,
     * concat, a sum of three, tanh and sigmoid, padded average pooling, padded max pooling, batch
     * norm on maps and on flat items, global average pooling, dropout, and a softmax over whole
     * maps in the middle of the network (beside the maps it normalizes, which keep the logits'
     * size: its own values are about 1/882).
     */
    static Graph.Builder graph() {
        return Graph.builder().input(1, 28, 28).seed(3)
                .add("stem", Conv2d.builder().filters(6).kernel(3).padding(1).build(), Model.INPUT)
                .add("stem_bn", new BatchNorm2d(), "stem")
                .add("stem_relu", new ReLU(), "stem_bn")
                .add("wide", Conv2d.builder().filters(6).kernel(3).padding(2).dilation(2).build(), "stem_relu")
                .add("point", Conv2d.builder().filters(6).kernel(1).bias(false).build(), "stem_relu")
                .add("sum", new Add(), "stem_relu", "wide", "point")
                .add("cat", new Concat(), "wide", "point", "sum")
                .add("tanh", new Tanh(), "cat")
                .add("avg", new AvgPool2d(3, 2, 1), "tanh")
                .add("sigmoid", new Sigmoid(), "avg")
                .add("max", new MaxPool2d(3, 2, 1), "sigmoid")
                .add("maps", new Softmax(), "max")
                .add("both", new Concat(), "max", "maps")
                .add("squeeze", Conv2d.builder().filters(12).kernel(3).stride(2).build(), "both")
                .add("gap", new GlobalAvgPool2d(), "squeeze")
                .add("flat", new Flatten(), "gap")
                .add("flat_bn", new BatchNorm1d(1e-3, 0.2), "flat")
                .add("drop", new Dropout(0.25), "flat_bn")
                .add("fc", Dense.builder().units(10).build(), "drop")
                .output("fc");
    }
}
