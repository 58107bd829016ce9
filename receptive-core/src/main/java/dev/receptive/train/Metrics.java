package dev.receptive.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One epoch's figures, a row of metrics.csv. Losses are means over the epoch's images; the
 * training figures are measured on the fly (dropout active), the validation ones afterwards on
 * the validation set (NaN when there is none). {@code seconds} is the training pass only.
 *
 * @param epoch counted from 1
 * @param trainLoss mean training loss over the epoch's images
 * @param trainAccuracy fraction of the epoch's training images classified right
 * @param valLoss mean validation loss, NaN without validation
 * @param valAccuracy validation accuracy, NaN without validation
 * @param lr the learning rate at the epoch's start
 * @param seconds the training pass's wall time
 * @param imagesPerSecond training images per second of the training pass
 * @param dataSeconds how long of {@code seconds} the training loop waited for batches (0 when the
 *     background thread that prepares them keeps ahead); NaN in records of older checkpoints
 */
public record Metrics(int epoch, double trainLoss, double trainAccuracy, double valLoss, double valAccuracy,
        double lr, double seconds, double imagesPerSecond, double dataSeconds) {

    /** The header of {@link #toCsv}. */
    public static final String CSV_HEADER =
            "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,images_per_s,data_seconds";
    /** The header of checkpoints written before data_seconds was recorded; still read. */
    static final String CSV_HEADER_V1 = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,images_per_s";

    /**
     * {@return the CSV row under {@link #CSV_HEADER}, without a line break; a missing validation figure is an empty
     * field}
     */
    public String csvRow() {
        return String.join(",", Integer.toString(epoch), number(trainLoss), number(trainAccuracy), number(valLoss),
                number(valAccuracy), number(lr), String.format(Locale.ROOT, "%.3f", seconds),
                String.format(Locale.ROOT, "%.1f", imagesPerSecond),
                Double.isNaN(dataSeconds) ? "" : String.format(Locale.ROOT, "%.3f", dataSeconds));
    }

    /**
     * "epoch 2/3: train loss 0.0412 acc 98.71% | val loss 0.0301 acc 99.02% | 110.2 s, 544 images/s,
     * lr 0.001, data wait 0.02 s": lr is the epoch's first step's, data wait how long the
     * training loop waited for batches (left out when unknown).
     *
     * @param epochs the run's total epochs, shown after the slash
     * @return the line, without a line break
     */
    public String summary(int epochs) {
        String val = hasValidation()
                ? String.format(Locale.ROOT, " | val loss %.4f acc %.2f%%", valLoss, 100 * valAccuracy) : "";
        String wait = Double.isNaN(dataSeconds) ? "" : String.format(Locale.ROOT, ", data wait %.2f s", dataSeconds);
        return String.format(Locale.ROOT, "epoch %d/%d: train loss %.4f acc %.2f%%%s | %.1f s, %.0f images/s, lr %.3g%s",
                epoch, epochs, trainLoss, 100 * trainAccuracy, val, seconds, imagesPerSecond, lr, wait);
    }

    /** {@return whether the epoch was validated (the validation figures are not NaN)} */
    public boolean hasValidation() {
        return !Double.isNaN(valAccuracy);
    }

    /**
     * The header line, then one row per epoch, each ending in a line break.
     *
     * @param rows the epochs' figures, in order
     * @return the CSV text, which {@link #fromCsv} reads back
     */
    public static String toCsv(List<Metrics> rows) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (Metrics m : rows) {
            sb.append(m.csvRow()).append('\n');
        }
        return sb.toString();
    }

    /**
     * Parses what {@link #toCsv} wrote (also without the data_seconds column of older checkpoints).
     *
     * @param csv the CSV text
     * @return the rows, in order
     * @throws IllegalArgumentException naming the line that is not a metrics row
     */
    public static List<Metrics> fromCsv(String csv) {
        List<String> lines = csv.lines().toList();
        if (lines.isEmpty() || !(lines.get(0).equals(CSV_HEADER) || lines.get(0).equals(CSV_HEADER_V1))) {
            throw new IllegalArgumentException("metrics CSV: expected the header " + CSV_HEADER);
        }
        int fields = lines.get(0).split(",").length;
        List<Metrics> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",", -1);
            try {
                if (f.length != fields) {
                    throw new NumberFormatException(f.length + " fields instead of " + fields);
                }
                rows.add(new Metrics(Integer.parseInt(f[0]), parse(f[1]), parse(f[2]), parse(f[3]), parse(f[4]),
                        parse(f[5]), parse(f[6]), parse(f[7]), fields > 8 ? parse(f[8]) : Double.NaN));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("metrics CSV line " + (i + 1) + " is not a row ("
                        + e.getMessage() + "): " + lines.get(i), e);
            }
        }
        return rows;
    }

    private static String number(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
    }

    private static double parse(String s) {
        return s.isEmpty() ? Double.NaN : Double.parseDouble(s);
    }
}
