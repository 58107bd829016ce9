package dev.receptive.fuzz;

import dev.receptive.backend.Backend;
import dev.receptive.nn.AvgPool2d;
import dev.receptive.nn.BatchNorm1d;
import dev.receptive.nn.BatchNorm2d;
import dev.receptive.nn.Concat;
import dev.receptive.nn.Add;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Dropout;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.GlobalAvgPool2d;
import dev.receptive.nn.Graph;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.Model;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sigmoid;
import dev.receptive.nn.Softmax;
import dev.receptive.nn.Tanh;
import dev.receptive.onnx.OnnxFile;
import dev.receptive.testing.TestBackends;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes the valid seed inputs of {@link OnnxFuzzTest} into
 * receptive-onnx/src/test/resources/dev/receptive/fuzz/OnnxFuzzTestInputs/read/: a small graph of
 * every layer and merge as Receptive exports it, and two of PyTorch's files from test-data/onnx/
 * (with Pad, MatMul + Add, batch norm and a Reshape's shape subgraph). Inputs that once broke the
 * reader are committed there by hand, named crash-*. Run from the repository root:
 * {@code java -cp <test classpath> dev.receptive.fuzz.OnnxFuzzSeeds}.
 */
public final class OnnxFuzzSeeds {
    private static final Path DIR = Path.of("receptive-onnx/src/test/resources/dev/receptive/fuzz/OnnxFuzzTestInputs/read");

    private OnnxFuzzSeeds() {
    }

    public static void main(String[] args) throws IOException {
        Files.createDirectories(DIR);
        try (Backend cpu = TestBackends.cpu(1);
                Model model = Graph.builder().input(2, 6, 6).seed(4)
                        .add("conv", Conv2d.builder().filters(3).kernel(3).padding(1).dilation(1).build(), Model.INPUT)
                        .add("bn", new BatchNorm2d(), "conv")
                        .add("relu", new ReLU(), "bn")
                        .add("side", Conv2d.builder().filters(3).kernel(1).bias(false).build(), "relu")
                        .add("sum", new Add(), "relu", "side")
                        .add("cat", new Concat(), "sum", "side")
                        .add("tanh", new Tanh(), "cat")
                        .add("avg", new AvgPool2d(3, 1, 1), "tanh")
                        .add("max", new MaxPool2d(2), "avg")
                        .add("soft", new Softmax(), "max")
                        .add("sig", new Sigmoid(), "soft")
                        .add("gap", new GlobalAvgPool2d(), "sig")
                        .add("flat", new Flatten(), "gap")
                        .add("bn1", new BatchNorm1d(), "flat")
                        .add("drop", new Dropout(0.5), "bn1")
                        .add("fc", Dense.builder().units(3).build(), "drop")
                        .output("fc").build(cpu)) {
            OnnxFile.write(DIR.resolve("every-layer.onnx"), model);
        }
        for (String name : new String[] {"concat", "resnet"}) {
            Files.copy(Path.of("test-data", "onnx", name + ".onnx"), DIR.resolve("pytorch-" + name + ".onnx"),
                    StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
