package dev.receptive.cli;

import dev.receptive.io.internal.AtomicFiles;
import dev.receptive.train.Evaluation;
import dev.receptive.train.Metrics;
import dev.receptive.train.StepMetrics;
import dev.receptive.train.TrainingListener;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What `train` shows and draws: a progress bar per epoch on stderr, a summary line per epoch on
 * stdout, and the loss and accuracy curves as {@value #CURVES} in the run folder.
 */
final class TrainingDisplay implements TrainingListener {
    static final String CURVES = "curves.png";
    private final PrintStream err;
    private final PrintStream out;
    private Progress bar;
    private int epochs;

    TrainingDisplay(PrintStream err, PrintStream out) {
        this.err = err;
        this.out = out;
    }

    @Override
    public void epochStarted(int epoch, int epochs, long images) {
        this.epochs = epochs;
        bar = Progress.start(err, "epoch " + epoch + "/" + epochs, images);
    }

    @Override
    public void progress(long images, double meanLoss, double accuracy) {
        bar.update(images, meanLoss, accuracy);
    }

    @Override
    public void epochEnded(Metrics metrics, List<Metrics> history, List<StepMetrics> steps, Evaluation validation,
            Path runFolder) {
        bar.close();
        out.println(metrics.summary(epochs));
        if (runFolder != null) {
            try {
                AtomicFiles.write(runFolder.resolve(CURVES), o -> Curves.writePng(history, steps, o));
            } catch (IOException e) {
                throw new UncheckedIOException(runFolder.resolve(CURVES) + ": " + e.getMessage(), e);
            }
        }
    }
}
