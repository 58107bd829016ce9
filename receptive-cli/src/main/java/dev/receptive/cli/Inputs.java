package dev.receptive.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import dev.receptive.backend.Backend;
import dev.receptive.backend.BackendOptions;
import dev.receptive.backend.Backends;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Model;
import dev.receptive.tensor.Shape;
import dev.receptive.train.Checkpoint;
import dev.receptive.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Checks of what the user named on the command line, failing as bad usage (exit code 2). */
final class Inputs {
    private Inputs() {
    }

    static Path existingFile(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new UsageException(what + " " + file + (Files.exists(file) ? " is not a file" : " does not exist"));
        }
        return file;
    }

    /**
     * A readable Receptive model file or ONNX file (by its .onnx name), or bad usage saying why not (and what to use
     * for a checkpoint).
     */
    static ModelFile.Contents modelFile(Path file) {
        existingFile(file, "model file");
        if (OnnxModels.isOnnx(file)) {
            return OnnxModels.read(file);
        }
        try {
            return ModelFile.read(file);
        } catch (IOException e) {
            if (checkpoint(file) != null) {
                throw new UsageException(file + " is a training checkpoint, not a model file: use the "
                        + RunFolder.MODEL + " of the same run folder (train writes it when it ends), or "
                        + "'receptive train --resume " + file + "' to go on training", e);
            }
            throw new UsageException(e.getMessage(), e);
        }
    }

    /** The checkpoint in {@code file}, or null when it is not a readable checkpoint. */
    static Checkpoint checkpoint(Path file) {
        try {
            return Checkpoint.read(file);
        } catch (IOException e) {
            return null;
        }
    }

    /** The input shape of an architecture JSON; {@code where} names its file in the error. */
    static Shape inputShape(String architecture, String where) {
        try {
            JsonArray input = JsonParser.parseString(architecture).getAsJsonObject().getAsJsonArray("input");
            return Shape.of(input.asList().stream().mapToInt(JsonElement::getAsInt).toArray());
        } catch (RuntimeException e) {
            throw new UsageException(where + ": the architecture has no valid \"input\" shape", e);
        }
    }

    /** Builds a model file's network on {@code backend}; an invalid architecture or tensor is bad usage. */
    static Model model(ModelFile.Contents contents, Backend backend) {
        try {
            return ModelFile.build(contents, backend);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /**
     * The backend of --backend (null: RECEPTIVE_BACKEND, else auto); an unknown name is bad usage.
     * When auto falls back to the CPU, one line on stderr says why and where to look.
     */
    /**
     * The backend of --backend with the math of --precision (null: fp32). The CUDA engine reads the
     * mode from a system property while it is made; the property is restored afterwards, so a
     * command run inside a longer-lived JVM (tests, an embedding application) leaves nothing behind.
     * A mode other than fp32 on an engine that computes only in fp32 is bad usage.
     */
    static Backend backend(String choice, String precision) {
        String mode = precision(precision);
        String before = System.getProperty(PRECISION_PROPERTY);
        Backend b;
        try {
            System.setProperty(PRECISION_PROPERTY, mode);
            b = backend(choice);
        } finally {
            if (before == null) {
                System.clearProperty(PRECISION_PROPERTY);
            } else {
                System.setProperty(PRECISION_PROPERTY, before);
            }
        }
        if (!mode.equals("fp32") && !b.name().equals("cuda")) {
            String name = b.name();
            b.close();
            throw new UsageException("--precision " + mode + " needs the cuda backend; the " + name
                    + " backend computes in fp32");
        }
        return b;
    }

    /** Precisions --precision takes; the CUDA engine reads the choice from this system property. */
    static final List<String> PRECISIONS = List.of("fp32", "tf32", "bf16");
    static final String PRECISION_PROPERTY = "receptive.cuda.precision";

    /** The mode of --precision (null: fp32); an unknown mode is bad usage. */
    static String precision(String value) {
        String mode = value == null ? "fp32" : value.trim().toLowerCase(Locale.ROOT);
        if (!PRECISIONS.contains(mode)) {
            throw new UsageException("--precision must be fp32, tf32 or bf16, got '" + value + "'");
        }
        return mode;
    }

    static Backend backend(String choice) {
        try {
            return Backends.create(choice, BackendOptions.defaults(),
                    line -> System.err.println("receptive: " + line + "; 'receptive doctor' shows how to fix it"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }
}
