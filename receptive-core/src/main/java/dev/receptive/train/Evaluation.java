package dev.receptive.train;

import dev.receptive.backend.Backend;
import dev.receptive.data.Batches;
import dev.receptive.data.Dataset;
import dev.receptive.nn.Model;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Workspace;
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
 * @param accuracy the fraction of the images whose predicted class is their label
 * @param confusion confusion[actual][predicted] counts, classes × classes
 */
public record Evaluation(double loss, double accuracy, int[][] confusion) {

    /**
     * Runs {@code model} over {@code data} in batches of {@code batchSize}.
     *
     * @param model the classifier, run in evaluation mode in a workspace of its own
     * @param loss the loss to average; its gradient is left as it was
     * @param data every image is evaluated once, in order
     * @param batchSize images per forward pass, ≥ 1 (capped at the dataset's size)
     * @return the loss, accuracy and confusion matrix
     * @throws IllegalArgumentException when the model's input is not the dataset's image shape,
     *     its output is not one score per class, or batchSize &lt; 1
     */
    public static Evaluation of(Model model, Loss loss, Dataset data, int batchSize) {
        checkFits(model, data, "Evaluation");
        if (batchSize < 1) {
            throw new IllegalArgumentException("Evaluation: batch size must be >= 1, got " + batchSize);
        }
        // A batch larger than the data would only allocate (or overflow) for rows that never fill.
        batchSize = Math.max(1, Math.min(batchSize, data.size()));
        Backend backend = model.backend();
        int classes = data.classCount();
        int[][] confusion = new int[classes][classes];
        int batch = Math.min(batchSize, data.size());
        Batches.Epoch order = Batches.inOrder(data, batch).epoch(0);
        int item = data.itemShape().size();
        float[] images = new float[batch * item];
        float[] labels = new float[batch];
        try (Workspace ws = model.newWorkspace();
                Tensor lossSum = backend.allocate(Shape.of(1));
                Tensor full = backend.allocate(Shape.of(batch));
                Tensor fullPredicted = backend.allocate(Shape.of(batch))) {
            Tensor tail = null;
            Tensor tailPredicted = null;
            try {
                for (int b = 0; b < order.count(); b++) {
                    order.fill(b, images, labels);
                    // Only the last batch can be short; it gets tensors of its own size.
                    int n = b == order.count() - 1 && data.size() % batch != 0 ? data.size() % batch : batch;
                    if (n != batch && tail == null) {
                        tail = backend.allocate(Shape.of(n));
                        tailPredicted = backend.allocate(Shape.of(n));
                    }
                    Tensor y = n == batch ? full : tail;
                    Tensor predicted = n == batch ? fullPredicted : tailPredicted;
                    backend.upload(y, n == batch ? labels : Arrays.copyOf(labels, n));
                    Tensor output = ws.forward(n == batch ? images : Arrays.copyOf(images, n * item), Pass.EVAL);
                    backend.axpy(lossSum, n, loss.evaluate(output, y));
                    backend.argmax(predicted, output);
                    float[] guesses = predicted.toArray();
                    for (int i = 0; i < n; i++) {
                        confusion[(int) labels[i]][(int) guesses[i]]++;
                    }
                }
            } finally {
                if (tailPredicted != null) {
                    tailPredicted.close();
                }
                if (tail != null) {
                    tail.close();
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
    static void checkFits(Model model, Dataset data, String who) {
        if (!model.inputShape().equals(data.itemShape())) {
            throw new IllegalArgumentException(who + ": the model takes input " + model.inputShape()
                    + " but the images are " + data.itemShape());
        }
        if (!model.outputShape().equals(Shape.of(data.classCount()))) {
            throw new IllegalArgumentException(who + ": the model outputs " + model.outputShape() + " but the data has "
                    + data.classCount() + " classes, so it needs (" + data.classCount() + ",)");
        }
    }

    /** {@return the number of images evaluated: the sum of the confusion matrix} */
    public int count() {
        int n = 0;
        for (int[] row : confusion) {
            n += Arrays.stream(row).sum();
        }
        return n;
    }

    /**
     * The confusion matrix as a table: one row per actual class, one column per predicted class.
     *
     * @param classNames names shown beside the row numbers (cut to 14 characters); may be shorter than the
     *     class count or empty
     * @return the table, each line ending in the platform's line separator
     */
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

    /**
     * {@return the confusion matrix as CSV: header "actual,0,1,...", then one row per actual class, each ending in
     * '\n'}
     */
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
}
