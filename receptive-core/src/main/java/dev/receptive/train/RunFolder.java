package dev.receptive.train;

import dev.receptive.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A training run's folder, rewritten after every epoch, each file atomically:
 * <ul>
 *   <li>{@value #METRICS}: one row per epoch ({@link Metrics#CSV_HEADER})</li>
 *   <li>{@value #CONFUSION}: the last validation's confusion matrix, when there is validation</li>
 *   <li>{@value #CHECKPOINT}: the latest {@link Checkpoint}</li>
 * </ul>
 */
public final class RunFolder {
    public static final String METRICS = "metrics.csv";
    public static final String CONFUSION = "confusion.csv";
    public static final String CHECKPOINT = "checkpoint.safetensors";

    private final Path dir;

    public RunFolder(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    public Path checkpoint() {
        return dir.resolve(CHECKPOINT);
    }

    /**
     * Makes the folder and checks that files can be written in it, before any training: a bad
     * folder is reported at once rather than after the first epoch.
     *
     * @throws IOException naming the folder and what is wrong with it
     */
    void prepare() throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IOException(dir + ": the run folder is a file, not a folder");
        }
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".write-check", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new IOException(dir + ": cannot write the run folder there: " + e.getMessage(), e);
        }
    }

    /** Writes the checkpoint first: once it is on disk, the epoch is safe even if a later file fails. */
    void writeEpoch(Checkpoint checkpoint, Evaluation validation) throws IOException {
        Files.createDirectories(dir);
        checkpoint.write(checkpoint());
        List<Metrics> history = checkpoint.history();
        AtomicFiles.write(dir.resolve(METRICS), out -> out.write(Metrics.toCsv(history).getBytes(StandardCharsets.UTF_8)));
        if (validation != null) {
            AtomicFiles.write(dir.resolve(CONFUSION),
                    out -> out.write(validation.confusionCsv().getBytes(StandardCharsets.UTF_8)));
        }
    }
}
