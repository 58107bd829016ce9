package dev.receptive.cli;

import dev.receptive.io.ModelFile;
import dev.receptive.onnx.OnnxFile;
import java.io.IOException;
import java.nio.file.Path;

/** ONNX files where the command line takes a model file: read with the import of receptive-onnx. */
final class OnnxModels {
    private OnnxModels() {
    }

    /** Whether the command line reads {@code file} as ONNX: by its .onnx name. */
    static boolean isOnnx(Path file) {
        return OnnxFile.isOnnx(file);
    }

    /** The model of an ONNX file; a malformed file or one Receptive cannot express is bad usage, saying why. */
    static ModelFile.Contents read(Path file) {
        try {
            return OnnxFile.read(file);
        } catch (IOException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }
}
