package dev.receptive.train;

import dev.receptive.backend.Backend;
import dev.receptive.data.Batches;
import dev.receptive.data.Dataset;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.loss.Loss;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * A classifier's loss, accuracy and confusion matrix on a dataset, in evaluation mode (no
 * dropout). The predicted class is the argmax of the output, computed on the backend.
 *
 * @param loss mean over the images
 * @param confusion confusion[actual][predicted] counts
 */
public record Evaluation(double loss, double accuracy, int[][] confusion) {

    /**
     * Runs {@code model} over {@code data} in batches of {@code batchSize}.
     *
     * @throws IllegalArgumentException when the model's input is not the dataset's image shape
     *     or its output is not one score per class
     */
    public static Evaluation of(Sequential model, Loss loss, Dataset data, int batchSize) {
        checkFits(model, data, "Evaluation");
        if (batchSize < 1) {
            throw new IllegalArgumentException("Evaluation: batch size must be >= 1, got " + batchSize);
        }
        // A batch larger than the data would only allocate (or overflow) for rows that never fill.
        batchSize = Math.max(1, Math.min(batchSize, data.size()));
        Backend backend = model.backend();
        int classes = data.classCount();
        int[][] confusion = new int[classes][classes];
        Batches.Epoch order = Batches.inOrder(data, batchSize).epoch(0);
        try (Tensor lossSum = backend.allocate(Shape.of(1))) {
            float[] images = new float[batchSize * data.itemShape().size()];
            float[] labels = new float[batchSize];
            Batch full = null;
            Batch tail = null;
            try {
                full = new Batch(backend, data.itemShape(), batchSize);
                for (int b = 0; b < order.count(); b++) {
                    // Only the last batch can be short; it gets tensors of its own size.
                    boolean last = b == order.count() - 1 && data.size() % batchSize != 0;
                    if (last) {
                        tail = new Batch(backend, data.itemShape(), data.size() % batchSize);
                    }
                    Batch batch = last ? tail : full;
                    order.fill(b, images, labels);
                    batch.upload(images, labels);
                    Tensor output = model.forward(batch.x, Pass.EVAL);
                    backend.axpy(lossSum, batch.n, loss.evaluate(output, batch.labels));
                    backend.argmax(batch.predicted, output);
                    float[] guesses = batch.predicted.toArray();
                    for (int i = 0; i < batch.n; i++) {
                        confusion[(int) labels[i]][(int) guesses[i]]++;
                    }
                }
            } finally {
                if (tail != null) {
                    tail.close();
                }
                if (full != null) {
                    full.close();
                }
            }
            int correct = 0;
            for (int c = 0; c < classes; c++) {
                correct += confusion[c][c];
            }
            return new Evaluation(lossSum.toArray()[0] / data.size(), (double) correct / data.size(), confusion);
        }
    }

    /** The model takes the dataset's images and gives one score per class, or this throws naming both. */
    static void checkFits(Sequential model, Dataset data, String who) {
        if (!model.inputShape().equals(data.itemShape())) {
            throw new IllegalArgumentException(who + ": the model takes input " + model.inputShape()
                    + " but the images are " + data.itemShape());
        }
        if (!model.outputShape().equals(Shape.of(data.classCount()))) {
            throw new IllegalArgumentException(who + ": the model outputs " + model.outputShape() + " but the data has "
                    + data.classCount() + " classes, so it needs (" + data.classCount() + ",)");
        }
    }

    public int count() {
        int n = 0;
        for (int[] row : confusion) {
            n += Arrays.stream(row).sum();
        }
        return n;
    }

    /** The confusion matrix as a table: one row per actual class, one column per predicted class. */
    public String confusionTable(List<String> classNames) {
        StringBuilder sb = new StringBuilder(String.format("%-14s", "actual\\pred"));
        for (int c = 0; c < confusion.length; c++) {
            sb.append(String.format("%6d", c));
        }
        sb.append(System.lineSeparator());
        for (int a = 0; a < confusion.length; a++) {
            String name = a < classNames.size() ? a + " " + classNames.get(a) : Integer.toString(a);
            sb.append(String.format("%-14.14s", name));
            for (int p = 0; p < confusion.length; p++) {
                sb.append(String.format("%6d", confusion[a][p]));
            }
            sb.append(System.lineSeparator());
        }
        return sb.toString();
    }

    /** The confusion matrix as CSV: header "actual,0,1,...", then one row per actual class. */
    public String confusionCsv() {
        StringBuilder sb = new StringBuilder("actual");
        for (int c = 0; c < confusion.length; c++) {
            sb.append(',').append(c);
        }
        sb.append('\n');
        for (int a = 0; a < confusion.length; a++) {
            sb.append(a);
            for (int count : confusion[a]) {
                sb.append(',').append(count);
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Input, labels and predictions of one batch size, on the backend. */
    private static final class Batch implements AutoCloseable {
        final int n;
        final Tensor x; // (n, C, H, W)
        final Tensor labels; // (n)
        final Tensor predicted; // (n)

        Batch(Backend backend, Shape item, int n) {
            this.n = n;
            int[] dims = new int[item.rank() + 1];
            dims[0] = n;
            System.arraycopy(item.dims(), 0, dims, 1, item.rank());
            x = backend.allocate(Shape.of(dims));
            labels = backend.allocate(Shape.of(n));
            predicted = backend.allocate(Shape.of(n));
        }

        /** Uploads the first n rows of full-batch host buffers. */
        void upload(float[] images, float[] hostLabels) {
            boolean whole = hostLabels.length == n;
            x.backend().upload(x, whole ? images : Arrays.copyOf(images, x.size()));
            labels.backend().upload(labels, whole ? hostLabels : Arrays.copyOf(hostLabels, n));
        }

        @Override
        public void close() {
            predicted.close();
            labels.close();
            x.close();
        }
    }
}
