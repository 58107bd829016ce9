package dev.receptive.cli;

import dev.receptive.io.ModelFile;
import dev.receptive.onnx.OnnxFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a model file as ONNX (opset 17), for ONNX Runtime, Triton, TensorRT and other ONNX "
            + "engines: the input is 'input' of shape (N, C, H, W), the output is the model's (logits for the zoo's "
            + "networks); the normalization and class names go into the file's metadata.",
            "Prints one line: the file written and its size."})
final class ExportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "A model file (model.safetensors, or an ONNX file)")
    Path modelPath;

    @Option(names = "--onnx", required = true, paramLabel = "FILE", description = "The ONNX file to write (replaced "
            + "if it exists)")
    Path onnx;

    @Override
    public Integer call() throws IOException {
        Activity.set("reading the model file " + modelPath);
        ModelFile.Contents contents = Inputs.modelFile(modelPath);
        Path parent = onnx.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new UsageException("--onnx " + onnx + ": the folder " + parent + " does not exist");
        }
        Activity.set("writing " + onnx);
        try {
            OnnxFile.write(onnx, contents.model());
        } catch (IllegalArgumentException e) {
            throw new UsageException(modelPath + ": " + e.getMessage(), e);
        }
        System.out.println("exported " + modelPath + " to " + onnx + " (ONNX opset 17, " + String.format("%,d",
                Files.size(onnx)) + " bytes)");
        return Main.OK;
    }
}
