package dev.receptive.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The training loss and accuracy over a window of steps (the trainer reads them back every 20
 * steps and at the end of each epoch): the smoothed curve of a run, step by step.
 *
 * @param epoch the epoch, counted from 1
 * @param step the steps done at the window's end, counted over the whole run
 * @param loss the mean training loss over the window's images
 * @param accuracy the fraction of the window's training images classified right
 * @param lr the learning rate of the window's last step
 */
public record StepMetrics(int epoch, int step, double loss, double accuracy, double lr) {
    /** The CSV header of {@link #toCsv}. */
    public static final String CSV_HEADER = "epoch,step,train_loss,train_accuracy,lr";

    /**
     * The header line, then one row per window, each ending in a line break.
     *
     * @param rows the windows, in order
     * @return the CSV text, which {@link #fromCsv} reads back
     */
    public static String toCsv(List<StepMetrics> rows) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (StepMetrics m : rows) {
            sb.append(String.format(Locale.ROOT, "%d,%d,%.6g,%.6g,%.6g%n", m.epoch, m.step, m.loss, m.accuracy, m.lr));
        }
        return sb.toString();
    }

    /**
     * Parses what {@link #toCsv} wrote.
     *
     * @param csv the CSV text
     * @return the rows, in order
     * @throws IllegalArgumentException naming the line that is not a row
     */
    public static List<StepMetrics> fromCsv(String csv) {
        List<String> lines = csv.lines().toList();
        if (lines.isEmpty() || !lines.get(0).equals(CSV_HEADER)) {
            throw new IllegalArgumentException("step metrics CSV: expected the header " + CSV_HEADER);
        }
        List<StepMetrics> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",", -1);
            try {
                if (f.length != 5) {
                    throw new NumberFormatException(f.length + " fields instead of 5");
                }
                rows.add(new StepMetrics(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Double.parseDouble(f[2]),
                        Double.parseDouble(f[3]), Double.parseDouble(f[4])));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("step metrics CSV line " + (i + 1) + " is not a row (" + e.getMessage()
                        + "): " + lines.get(i), e);
            }
        }
        return rows;
    }
}
