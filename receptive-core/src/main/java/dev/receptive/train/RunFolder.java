package dev.receptive.train;

import dev.receptive.io.ModelFile;
import dev.receptive.io.internal.AtomicFiles;
import dev.receptive.nn.Model;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A training run's folder, rewritten after every epoch, each file atomically:
 * <ul>
 *   <li>{@value #CHECKPOINT}: the latest {@link Checkpoint}</li>
 *   <li>{@value #MODEL}: the model file of the best epoch so far by validation accuracy (of the
 *       last epoch without validation)</li>
 *   <li>{@value #METRICS}: a row per window of steps (the smoothed training loss) and a row per
 *       epoch ({@link #METRICS_HEADER})</li>
 *   <li>{@value #CONFUSION}: the last validation's confusion matrix, when there is validation</li>
 * </ul>
 */
public final class RunFolder {
    /** The metrics file's name. */
    public static final String METRICS = "metrics.csv";
    /** The confusion matrix file's name. */
    public static final String CONFUSION = "confusion.csv";
    /** The checkpoint file's name. */
    public static final String CHECKPOINT = "checkpoint.safetensors";
    /** The model file's name. */
    public static final String MODEL = "model.safetensors";
    /**
     * The metrics file's header: {@code kind} is "step" for a window of steps (its smoothed
     * training loss and accuracy, the other figures empty) or "epoch" for an epoch's figures.
     */
    public static final String METRICS_HEADER =
            "kind,epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,images_per_s,data_seconds";

    private final Path dir;

    /**
     * The run folder at {@code dir}; nothing is made until training starts.
     *
     * @param dir the folder, which need not exist yet
     */
    public RunFolder(Path dir) {
        this.dir = dir;
    }

    /** {@return the folder} */
    public Path dir() {
        return dir;
    }

    /** {@return the checkpoint's path in the folder} */
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

    /**
     * Writes the checkpoint first (once it is on disk, the epoch is safe even if a later file
     * fails), then the model when this epoch is the best so far, the metrics and the confusion
     * matrix.
     */
    void writeEpoch(Checkpoint checkpoint, Evaluation validation, Model model, boolean best, Map<String, String> extra)
            throws IOException {
        Files.createDirectories(dir);
        checkpoint.write(checkpoint());
        if (best) {
            ModelFile.save(dir.resolve(MODEL), model, extra);
        }
        AtomicFiles.write(dir.resolve(METRICS), out -> out.write(metricsCsv(checkpoint.history(), checkpoint.steps())
                .getBytes(StandardCharsets.UTF_8)));
        if (validation != null) {
            AtomicFiles.write(dir.resolve(CONFUSION),
                    out -> out.write(validation.confusionCsv().getBytes(StandardCharsets.UTF_8)));
        }
    }

    /** Step rows and epoch rows in the order they happened, under {@link #METRICS_HEADER}. */
    static String metricsCsv(List<Metrics> epochs, List<StepMetrics> steps) {
        StringBuilder sb = new StringBuilder(METRICS_HEADER).append('\n');
        int s = 0;
        for (Metrics m : epochs) {
            int lastStep = 0;
            while (s < steps.size() && steps.get(s).epoch() <= m.epoch()) {
                StepMetrics w = steps.get(s++);
                lastStep = w.step();
                sb.append(String.format(Locale.ROOT, "step,%d,%d,%.6g,%.6g,,,%.6g,,,%n", w.epoch(), w.step(), w.loss(),
                        w.accuracy(), w.lr()));
            }
            String row = m.csvRow(); // epoch,train_loss,...,data_seconds
            int comma = row.indexOf(',');
            sb.append("epoch,").append(m.epoch()).append(',').append(lastStep == 0 ? "" : Integer.toString(lastStep))
                    .append(row.substring(comma)).append('\n');
        }
        return sb.toString();
    }
}
