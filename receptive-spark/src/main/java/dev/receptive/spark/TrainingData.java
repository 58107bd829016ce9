package dev.receptive.spark;

import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Mnist;
import dev.receptive.data.Split;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where executors read the training data: a folder of MNIST-layout IDX files (raw or gzipped)
 * that every executor can read at the same path (a shared file system, or the same files on every
 * host), or a DataFrame of images and labels ({@link #fromDataFrame}). Each executor JVM reads it once and keeps it in memory; tasks carry only the indices of
 * their samples, never the data.
 */
public final class TrainingData implements Serializable {
    private static final long serialVersionUID = 1L;

    /** "mnist", "fashion-mnist" or "frame". */
    private final String kind;
    /** A DataFrame's rows, decoded once on the driver (kind "frame"), else null. */
    private final org.apache.spark.broadcast.Broadcast<FrameData> frame;
    /** The folder's absolute path, as a string (a Path is not serializable). */
    private final String dir;
    /** Which of the folder's files: training or test. */
    private final Split split;

    private TrainingData(String kind, String dir, Split split) {
        this.kind = kind;
        this.dir = Objects.requireNonNull(dir, "dir");
        this.split = Objects.requireNonNull(split, "split");
        this.frame = null;
    }

    private TrainingData(org.apache.spark.broadcast.Broadcast<FrameData> frame, String description) {
        this.kind = "frame";
        this.dir = description;
        this.split = Split.TRAIN;
        this.frame = frame;
    }

    /** A DataFrame's images and labels as arrays, what executors make their {@link Dataset} of. */
    record FrameData(float[] images, int[] labels, int[] itemShape, java.util.List<String> classNames,
            Double mean, Double std) implements Serializable {
    }

    /**
     * Training data from a DataFrame: a column of images, either encoded image bytes (Spark's
     * {@code binaryFile} source's {@code content}: PNG, JPEG, GIF or BMP of exactly the item's
     * height and width, decoded as {@link SparkPredictor} decodes them and normalized with
     * {@code normalization}) or arrays of floats or doubles (the item's values, already
     * normalized), and a column of integer class labels (any integer or whole floating-point
     * type). The rows are collected and decoded once, on the driver, in the frame's order (sort
     * it for a reproducible order), and shared with the executors as one broadcast; each executor
     * then holds the whole set in memory as with IDX folders, and the fingerprint check applies
     * as there. Suits data sets that fit in the driver's memory.
     *
     * @param frame the rows
     * @param imageColumn the images' column
     * @param labelColumn the labels' column
     * @param itemShape the item shape (C, H, W)
     * @param classNames one name per class; labels must lie in [0, classNames.size())
     * @param normalization how image bytes become values (required for a binary column; recorded in the model);
     *     null for arrays that carry no record of it
     * @return the description; the rows have been read
     * @throws IllegalArgumentException when a column is missing or of another type, a row is null, an image cannot
     *     be decoded or has another size, an array has another length, or a label is out of range
     */
    public static TrainingData fromDataFrame(org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> frame,
            String imageColumn, String labelColumn, dev.receptive.tensor.Shape itemShape,
            java.util.List<String> classNames, dev.receptive.data.Normalization normalization) {
        var schema = frame.schema();
        var imageType = schema.apply(imageColumn).dataType();
        var labelType = schema.apply(labelColumn).dataType();
        boolean binary = imageType instanceof org.apache.spark.sql.types.BinaryType;
        if (!binary && !(imageType instanceof org.apache.spark.sql.types.ArrayType)) {
            throw new IllegalArgumentException("TrainingData: column " + imageColumn + " is " + imageType.simpleString()
                    + "; use image bytes (binary) or an array of floats or doubles");
        }
        if (!(labelType instanceof org.apache.spark.sql.types.NumericType)) {
            throw new IllegalArgumentException("TrainingData: label column " + labelColumn + " is "
                    + labelType.simpleString() + ", not a number");
        }
        dev.receptive.data.ImageInput decoder = binary ? SparkPredictor.imageInput(itemShape, normalization) : null;
        org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> selected = frame.select(imageColumn, labelColumn);
        int item = itemShape.size();
        long count = selected.count();
        Runtime rt = Runtime.getRuntime();
        int rowCount = checkDriverMemory(count, item, rt.maxMemory() - (rt.totalMemory() - rt.freeMemory()));
        float[] images = new float[rowCount * item];
        int[] labels = new int[rowCount];
        // One partition at a time reaches the driver: the encoded rows are never all held at once.
        java.util.Iterator<org.apache.spark.sql.Row> rows = selected.toLocalIterator();
        int r = 0;
        for (; rows.hasNext(); r++) {
            if (r == rowCount) {
                throw new IllegalArgumentException("TrainingData: the DataFrame gave more rows than the " + rowCount
                        + " it counted; make it deterministic (cache or write it first)");
            }
            org.apache.spark.sql.Row row = rows.next();
            if (row.isNullAt(0) || row.isNullAt(1)) {
                throw new IllegalArgumentException("TrainingData: row " + r + " has a null image or label");
            }
            float[] x;
            if (binary) {
                x = SparkPredictor.decodeImage(decoder, (byte[]) row.get(0), "row " + r);
            } else {
                java.util.List<Object> values = row.getList(0);
                if (values.size() != item) {
                    throw new IllegalArgumentException("TrainingData: row " + r + " has " + values.size()
                            + " values; items of " + itemShape + " have " + item);
                }
                x = new float[item];
                for (int i = 0; i < item; i++) {
                    x[i] = ((Number) values.get(i)).floatValue();
                }
            }
            System.arraycopy(x, 0, images, r * item, item);
            double label = ((Number) row.get(1)).doubleValue();
            if (label != Math.rint(label) || label < 0 || label >= classNames.size()) {
                throw new IllegalArgumentException("TrainingData: row " + r + " has label " + label + "; labels are"
                        + " whole numbers in [0, " + classNames.size() + ")");
            }
            labels[r] = (int) label;
        }
        if (r != rowCount) {
            throw new IllegalArgumentException("TrainingData: the DataFrame gave " + r + " rows after counting " + rowCount
                    + "; make it deterministic (cache or write it first)");
        }
        FrameData data = new FrameData(images, labels, itemShape.dims(), java.util.List.copyOf(classNames),
                normalization == null ? null : normalization.mean(), normalization == null ? null : normalization.std());
        var jsc = org.apache.spark.api.java.JavaSparkContext.fromSparkContext(frame.sparkSession().sparkContext());
        return new TrainingData(jsc.broadcast(data), "a DataFrame of " + rowCount + " rows (" + imageColumn + ", "
                + labelColumn + ")");
    }

    /**
     * Refuses, before anything is collected, a DataFrame whose decoded set would not fit the
     * driver's free heap: its images as floats and its labels, counted twice, since the broadcast
     * holds a serialized copy beside the array while it is made.
     *
     * @return the row count as an int
     */
    static int checkDriverMemory(long rows, int item, long freeBytes) {
        long values = Math.multiplyExact(rows, (long) item);
        if (values > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("TrainingData: a DataFrame of " + rows + " rows of " + item
                    + " values is more than one array holds; train from an IDX folder or a smaller frame");
        }
        long need = 2 * 4 * (values + rows);
        if (need > freeBytes) {
            throw new IllegalArgumentException("TrainingData: a DataFrame of " + rows + " rows of " + item + " values needs "
                    + (need >> 20) + " MB on the driver and " + (freeBytes >> 20) + " MB are free; raise"
                    + " spark.driver.memory or train from an IDX folder");
        }
        return (int) rows;
    }

    /**
     * MNIST digits from {@code dir}, normalized with MNIST's mean and standard deviation.
     *
     * @param dir the folder with the IDX files, made absolute now; every executor must see it at that path
     * @param split the training or the test files
     * @return the description; nothing is read yet
     */
    public static TrainingData mnist(Path dir, Split split) {
        return new TrainingData("mnist", dir.toAbsolutePath().toString(), split);
    }

    /**
     * Fashion-MNIST from {@code dir}, normalized with Fashion-MNIST's mean and standard deviation.
     *
     * @param dir the folder with the IDX files, made absolute now; every executor must see it at that path
     * @param split the training or the test files
     * @return the description; nothing is read yet
     */
    public static TrainingData fashionMnist(Path dir, Split split) {
        return new TrainingData("fashion-mnist", dir.toAbsolutePath().toString(), split);
    }

    /**
     * Reads the data (what an executor does once).
     *
     * @return the images and labels, normalized
     * @throws IOException naming the file that is missing, damaged or does not fit the other
     */
    public Dataset load() throws IOException {
        if (frame != null) {
            FrameData f = frame.value();
            return new Dataset(f.images(), f.labels(), dev.receptive.tensor.Shape.of(f.itemShape()), f.classNames(),
                    f.mean() == null ? null : new dev.receptive.data.Normalization(f.mean(), f.std()));
        }
        Path path = Path.of(dir);
        return kind.equals("mnist") ? Mnist.load(path, split) : FashionMnist.load(path, split);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainingData t && t.kind.equals(kind) && t.dir.equals(dir) && t.split == split
                && frameId() == t.frameId();
    }

    private long frameId() {
        return frame == null ? -1 : frame.id();
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, dir, split, frameId());
    }

    @Override
    public String toString() {
        return frame != null ? dir : kind + " " + split.filePrefix() + " from " + dir;
    }
}
