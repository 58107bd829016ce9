package dev.receptive.train;

import java.io.PrintStream;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The progress of one epoch on stderr: images done, images/s, ETA, running loss and accuracy.
 * On a terminal the bar redraws in place; otherwise (a CI log, a file) it prints a plain line
 * every {@value #LOG_INTERVAL_MS} ms and at the end, so logs stay readable.
 */
final class Progress implements AutoCloseable {
    private static final int LOG_INTERVAL_MS = 15_000;
    private static final int LOG_WIDTH = 120;
    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    /** A bar over {@code images} images on {@code err}, or one that shows nothing when {@code err} is null. */
    static Progress start(PrintStream err, String task, long images) {
        if (err == null) {
            return new Progress(null);
        }
        ProgressBarBuilder builder = new ProgressBarBuilder().setTaskName(task).setInitialMax(images)
                .setUnit(" img", 1).showSpeed().setSpeedUnit(ChronoUnit.SECONDS);
        if (interactive(err)) {
            builder.setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setConsumer(
                    new me.tongfei.progressbar.ConsoleProgressBarConsumer(err));
        } else {
            builder.setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(LOG_INTERVAL_MS)
                    .setConsumer(new DelegatingProgressBarConsumer(err::println, LOG_WIDTH));
        }
        return new Progress(builder.build());
    }

    /** Moves the bar to {@code images} done, showing the running loss and accuracy. */
    void update(long images, double loss, double accuracy) {
        if (bar != null) {
            bar.stepTo(images);
            bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f acc %.2f%%", loss, 100 * accuracy));
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }

    /**
     * Redraw in place only on a real terminal: Java cannot ask whether stderr is one, so this
     * takes System.console() (stdin and stdout are a terminal) and a TERM that can move the cursor.
     */
    private static boolean interactive(PrintStream err) {
        String term = System.getenv("TERM");
        return err == System.err && System.console() != null && term != null && !term.equals("dumb")
                && System.getenv("CI") == null;
    }
}
