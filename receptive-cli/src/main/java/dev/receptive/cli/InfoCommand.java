package dev.receptive.cli;

import dev.receptive.backend.Backend;
import dev.receptive.data.DataFolder;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.ModelDescription;
import dev.receptive.train.Checkpoint;
import dev.receptive.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = {"Describe a model file (layers, shapes, parameters, metadata) or a training checkpoint,",
            "or, without one, this machine: Java, OS, backend and data folder."})
final class InfoCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL",
            description = "A model file (model.safetensors), an ONNX file (NAME.onnx) or a training checkpoint "
                    + "(checkpoint.safetensors)")
    Path modelPath;

    @Override
    public Integer call() throws IOException {
        if (modelPath == null) {
            describeSystem();
        } else {
            describeModel();
        }
        return Main.OK;
    }

    private void describeModel() throws IOException {
        Inputs.existingFile(modelPath, "model file");
        Checkpoint checkpoint = Inputs.checkpoint(modelPath);
        if (checkpoint != null) {
            describeCheckpoint(checkpoint);
            return;
        }
        ModelFile.Contents contents = Inputs.modelFile(modelPath);
        ModelDescription model = contents.model();
        System.out.println("file:    " + modelPath + " (" + String.format("%,d", Files.size(modelPath)) + " bytes, "
                + (OnnxModels.isOnnx(modelPath) ? "ONNX" : "format version " + contents.metadata().get(ModelFile.VERSION))
                + ")");
        for (Map.Entry<String, String> e : contents.metadata().entrySet()) {
            if (!e.getKey().equals(ModelFile.ARCHITECTURE) && !e.getKey().equals(ModelFile.VERSION)) {
                System.out.println("meta:    " + e.getKey() + " = " + e.getValue());
            }
        }
        System.out.println("input:   " + model.inputShape() + ", output: " + model.outputShape() + ", seed "
                + model.seed());
        if (!model.info().hasNormalization()) {
            System.out.println("input:   no normalization recorded" + (OnnxModels.isOnnx(modelPath)
                    ? "; predict and evaluate feed pixels scaled to [0, 1] unless --mean and --std say otherwise" : ""));
        }
        System.out.println("memory:  " + mib(model.placementBytes()) + " on a backend (parameters, their gradients"
                + " and buffers)");
        System.out.println();
        System.out.print(model.summary());
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }

    /** What a checkpoint holds, and which file evaluate and predict take instead. */
    private void describeCheckpoint(Checkpoint c) throws IOException {
        Path model = modelPath.toAbsolutePath().resolveSibling(RunFolder.MODEL);
        ModelDescription net = c.model();
        System.out.println("file:    " + modelPath + " (" + String.format("%,d", Files.size(modelPath)) + " bytes): "
                + "a training checkpoint, not a model file");
        System.out.println("state:   after epoch " + c.epoch() + ", step " + c.step() + "; seed " + c.seed()
                + ", batch size " + c.batchSize() + ", " + c.trainSize() + " training images, optimizer "
                + c.optimizer() + (c.best() == null ? "" : "; best epoch " + c.best().epoch()));
        System.out.println("model:   evaluate and predict take " + model
                + (Files.isRegularFile(model) ? " (the best epoch's)" : " (not written yet: train writes it after an epoch)")
                + "; train --resume goes on from this checkpoint");
        System.out.println("input:   " + net.inputShape() + ", output: " + net.outputShape());
        System.out.println();
        System.out.print(net.summary());
    }

    private static void describeSystem() {
        Runtime rt = Runtime.getRuntime();
        System.out.println("receptive 0.1.0");
        System.out.println("java:    " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version")
                + " (" + System.getProperty("java.vendor") + ")");
        System.out.println("os:      " + System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        System.out.println("cpus:    " + rt.availableProcessors() + ", max heap " + rt.maxMemory() / (1 << 20) + " MiB");
        String backend;
        try (Backend b = Inputs.backend(null)) {
            backend = b.description();
        } catch (RuntimeException e) {
            backend = "unavailable: " + e.getMessage();
        }
        System.out.println("backend: " + backend);
        Path root = DataFolder.root();
        System.out.println("data:    " + root);
        for (DatasetChoice d : DatasetChoice.values()) {
            System.out.println("         " + d.id() + ": "
                    + (d.missingFiles(root).isEmpty() ? "present" : "missing (scripts/fetch-datasets.sh fetches it)"));
        }
    }
}
