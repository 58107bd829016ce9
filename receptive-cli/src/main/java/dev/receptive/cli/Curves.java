package dev.receptive.cli;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import dev.receptive.train.Metrics;
import dev.receptive.train.StepMetrics;
import java.util.List;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/**
 * The loss and accuracy curves of a run as one PNG: loss on the left, accuracy on the right; the
 * training curves step by step (smoothed over windows of steps), validation after each epoch.
 */
final class Curves {
    private static final int WIDTH = 640;
    private static final int HEIGHT = 420;

    private Curves() {
    }

    static void writePng(List<Metrics> history, List<StepMetrics> steps, OutputStream out) throws IOException {
        // Rendering needs no display; without this AWT may look for one and fail on a server.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        double[] epochs = history.stream().mapToDouble(Metrics::epoch).toArray();
        XYChart loss = chart("Loss", "mean loss");
        XYChart accuracy = chart("Accuracy", "accuracy");
        if (steps.isEmpty()) {
            add(loss, "train", epochs, history.stream().mapToDouble(Metrics::trainLoss).toArray());
            add(accuracy, "train", epochs, history.stream().mapToDouble(Metrics::trainAccuracy).toArray());
        } else {
            // Every epoch has the same number of steps: epoch 1's last window ends at that number.
            double perEpoch = steps.stream().filter(w -> w.epoch() == 1).mapToInt(StepMetrics::step).max().orElse(1);
            double[] x = steps.stream().mapToDouble(w -> w.step() / perEpoch).toArray();
            add(loss, "train", x, steps.stream().mapToDouble(StepMetrics::loss).toArray());
            add(accuracy, "train", x, steps.stream().mapToDouble(StepMetrics::accuracy).toArray());
        }
        if (history.stream().allMatch(Metrics::hasValidation)) {
            add(loss, "validation", epochs, history.stream().mapToDouble(Metrics::valLoss).toArray());
            add(accuracy, "validation", epochs, history.stream().mapToDouble(Metrics::valAccuracy).toArray());
        }
        BufferedImage image = new BufferedImage(2 * WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            loss.paint(g, WIDTH, HEIGHT);
            g.translate(WIDTH, 0);
            accuracy.paint(g, WIDTH, HEIGHT);
        } finally {
            g.dispose();
        }
        if (!ImageIO.write(image, "png", out)) {
            throw new IOException("no PNG writer in this Java runtime");
        }
    }

    /** The finite points only: the chart library refuses NaN and infinities, which a diverging run records. */
    private static void add(XYChart chart, String name, double[] x, double[] y) {
        int[] finite = IntStream.range(0, y.length).filter(i -> Double.isFinite(y[i])).toArray();
        if (finite.length > 0) {
            chart.addSeries(name, IntStream.of(finite).mapToDouble(i -> x[i]).toArray(),
                    IntStream.of(finite).mapToDouble(i -> y[i]).toArray());
        }
    }

    private static XYChart chart(String title, String yAxis) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("epoch")
                .yAxisTitle(yAxis).build();
        chart.getStyler().setMarkerSize(6);
        chart.getStyler().setYAxisDecimalPattern("0.####");
        return chart;
    }
}
