package dev.receptive.cli;

import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The progress of one epoch on stderr: images done, images/s, running loss and accuracy, ETA.
 * On a terminal a bar redraws in place; anywhere else (a CI log, a file) a plain line is printed
 * every {@value #LOG_INTERVAL_NANOS} ns and at the end, so logs stay short and readable.
 */
final class Progress implements AutoCloseable {
    private static final long LOG_INTERVAL_NANOS = 15_000_000_000L;
    private final PrintStream err;
    private final String task;
    private final long total;
    private final long start = System.nanoTime();
    private final ProgressBar bar;
    private long lastLine = start;
    private String lastStatus;

    private Progress(PrintStream err, String task, long total, ProgressBar bar) {
        this.err = err;
        this.task = task;
        this.total = total;
        this.bar = bar;
    }

    /** Progress over {@code total} images on {@code err}, or none shown when {@code err} is null. */
    static Progress start(PrintStream err, String task, long total) {
        ProgressBar bar = null;
        if (err != null && interactive(err)) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" img", 1)
                    .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setConsumer(new ConsoleProgressBarConsumer(err))
                    .build();
        }
        return new Progress(err, task, total, bar);
    }

    /** {@code images} of the total are done, with this running loss and accuracy. */
    void update(long images, double loss, double accuracy) {
        if (err == null) {
            return;
        }
        long now = System.nanoTime();
        double seconds = (now - start) / 1e9;
        String status = String.format(Locale.ROOT, "%.0f img/s, loss %.4f, acc %.2f%%", images / seconds, loss,
                100 * accuracy);
        if (bar != null) {
            bar.stepTo(images);
            bar.setExtraMessage(" " + status);
        } else {
            lastStatus = String.format(Locale.ROOT, "%s: %d/%d images, %s", task, images, total, status);
            if (now - lastLine >= LOG_INTERVAL_NANOS && images < total) {
                long eta = Math.round(seconds / images * (total - images));
                err.println(lastStatus + String.format(Locale.ROOT, ", ETA %d:%02d", eta / 60, eta % 60));
                lastLine = now;
            }
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        } else if (lastStatus != null) {
            err.println(lastStatus);
        }
    }

    /**
     * Redraw in place only on a terminal. Java cannot ask whether stderr is one, so this takes
     * System.console() (stdin and stdout are a terminal), a TERM that moves the cursor, and no CI.
     */
    private static boolean interactive(PrintStream err) {
        String term = System.getenv("TERM");
        return err == System.err && System.console() != null && term != null && !term.equals("dumb")
                && System.getenv("CI") == null;
    }
}
