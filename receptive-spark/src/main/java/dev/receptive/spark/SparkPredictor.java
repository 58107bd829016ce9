package dev.receptive.spark;

import dev.receptive.data.ImageInput;
import dev.receptive.data.Normalization;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.Predictor;
import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;

/**
 * Distributed batch inference: adds a model's predictions to every row of a DataFrame. The model
 * is broadcast once when the predictor is built; each executor builds it once on its backend and
 * its tasks share it, each partition running through its rows in batches. Every input row gives
 * exactly one output row, in the same order within its partition: the input columns, then
 * {@value #PREDICTION} (the most probable class, the first on ties), {@value #CLASS} (its name,
 * when the model records class names) and {@value #PROBABILITIES} (the softmax of the outputs).
 *
 * <p>The input column holds either images (binary: PNG, JPEG, GIF or BMP bytes, as Spark's
 * {@code binaryFile} source reads them) or model inputs as they are (an array of floats or doubles
 * of the model's input size, already normalized). Images are decoded by {@link ImageInput}, as
 * the command line's {@code predict} and image folders decode them, and fed as they are: they
 * must have the model's height and width (no resizing), are never inverted, and are normalized
 * with the model's recorded normalization.
 *
 * <pre>
 * try (SparkPredictor predictor = SparkPredictor.builder().spark(spark).model(model).build()) {
 *     Dataset&lt;Row&gt; images = spark.read().format("binaryFile").load("digits/*.png");
 *     predictor.predict(images, "content").select("path", "prediction").show();
 * }
 * </pre>
 */
public final class SparkPredictor implements AutoCloseable {
    /** The output column of the most probable class (an int, the first on ties). */
    public static final String PREDICTION = "prediction";
    /** The output column of that class's name (a string), present when the model records class names. */
    public static final String CLASS = "class";
    /** The output column of every class's probability (an array of floats). */
    public static final String PROBABILITIES = "probabilities";

    private final Broadcast<ModelDescription> model;
    private final ModelInfo info;
    private final Shape inputShape;
    private final int itemSize;
    private final int batchSize;
    private final String backend;

    private SparkPredictor(Builder b) {
        ModelDescription image = b.model.describe();
        this.info = image.info();
        this.inputShape = b.model.inputShape();
        this.itemSize = inputShape.size();
        this.model = JavaSparkContext.fromSparkContext(b.spark.sparkContext()).broadcast(image);
        this.batchSize = b.batchSize;
        this.backend = b.backend;
    }

    /** {@return a new builder; spark and model are required} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The rows of {@code frame} with their predictions (lazy, like every DataFrame transformation).
     *
     * @param frame the rows to predict; every column is kept
     * @param inputColumn a binary column of images, or an array column of model inputs
     * @return a new DataFrame: frame's columns, then the prediction columns
     * @throws IllegalArgumentException when the column is missing or of another type, or an output
     *     column name is taken; a row that cannot be read fails the job with its path or index
     */
    public Dataset<Row> predict(Dataset<Row> frame, String inputColumn) {
        StructType schema = frame.schema();
        if (!Arrays.asList(schema.fieldNames()).contains(inputColumn)) {
            throw new IllegalArgumentException("SparkPredictor: no column '" + inputColumn + "' (columns: "
                    + String.join(", ", schema.fieldNames()) + ")");
        }
        int column = schema.fieldIndex(inputColumn);
        DataType type = schema.fields()[column].dataType();
        boolean images = type.equals(DataTypes.BinaryType);
        boolean arrays = type instanceof ArrayType a
                && (a.elementType().equals(DataTypes.FloatType) || a.elementType().equals(DataTypes.DoubleType));
        if (!images && !arrays) {
            throw new IllegalArgumentException("SparkPredictor: column '" + inputColumn + "' is " + type.simpleString()
                    + "; use a binary column of image bytes or an array of floats");
        }
        boolean named = !info.classNames().isEmpty();
        List<String> added = named ? List.of(PREDICTION, CLASS, PROBABILITIES) : List.of(PREDICTION, PROBABILITIES);
        for (String name : added) {
            if (Arrays.asList(schema.fieldNames()).contains(name)) {
                throw new IllegalArgumentException("SparkPredictor: the input already has a column '" + name
                        + "'; rename it first");
            }
        }
        if (images) {
            imageInput(inputShape, info.normalization()); // a model that cannot take images fails here, not in a task
        }
        StructType out = schema.add(PREDICTION, DataTypes.IntegerType, false);
        if (named) {
            out = out.add(CLASS, DataTypes.StringType, false);
        }
        out = out.add(PROBABILITIES, DataTypes.createArrayType(DataTypes.FloatType, false), false);
        int pathColumn = images && Arrays.asList(schema.fieldNames()).contains("path") ? schema.fieldIndex("path") : -1;
        PredictPartition f = new PredictPartition(model, backend, batchSize, column, images, pathColumn, itemSize, named);
        return frame.mapPartitions(f, Encoders.row(out));
    }

    /** Frees the broadcast model on the executors and the driver; DataFrames from {@link #predict} stop working. */
    @Override
    public void close() {
        model.destroy();
    }

    /** Runs one partition: batches of rows in, the same rows with predictions out. */
    private static final class PredictPartition implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<ModelDescription> model;
        private final String backend;
        private final int batchSize;
        private final int column;
        private final boolean images;
        private final int pathColumn;
        private final int itemSize;
        private final boolean named;

        PredictPartition(Broadcast<ModelDescription> model, String backend, int batchSize, int column, boolean images,
                int pathColumn, int itemSize, boolean named) {
            this.model = model;
            this.backend = backend;
            this.batchSize = batchSize;
            this.column = column;
            this.images = images;
            this.pathColumn = pathColumn;
            this.itemSize = itemSize;
            this.named = named;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            ExecutorResources.SharedBackend shared = ExecutorResources.backendForTask(backend);
            ExecutorResources.ModelLease lease = ExecutorResources.model(model.id(), k -> model.value().place(shared.backend()));
            org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
            if (task != null) {
                task.addTaskCompletionListener((TaskCompletionListener) ctx -> lease.close()); // also when a task fails or stops reading early
            }
            Model m = lease.model();
            Predictor predictor = m.predictor();
            ImageInput decoder = images ? imageInput(m.inputShape(), m.info().normalization()) : null;
            List<String> names = m.info().classNames();
            return new Iterator<>() {
                private final List<Row> batch = new ArrayList<>(batchSize);
                private final List<Row> ready = new ArrayList<>(batchSize);
                private int next;
                private long seen;
                private boolean done;

                @Override
                public boolean hasNext() {
                    if (next < ready.size()) {
                        return true;
                    }
                    if (done) {
                        return false;
                    }
                    fill();
                    return next < ready.size();
                }

                @Override
                public Row next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    return ready.get(next++);
                }

                private void fill() {
                    ready.clear();
                    next = 0;
                    batch.clear();
                    while (batch.size() < batchSize && rows.hasNext()) {
                        batch.add(rows.next());
                    }
                    if (batch.isEmpty()) {
                        finish();
                        return;
                    }
                    float[][] items = new float[batch.size()][];
                    for (int r = 0; r < items.length; r++) {
                        items[r] = input(batch.get(r), seen + r, decoder);
                    }
                    float[][] probabilities = predictor.probabilities(items);
                    for (int r = 0; r < items.length; r++) {
                        float[] p = probabilities[r];
                        int best = 0;
                        for (int c = 1; c < p.length; c++) {
                            if (p[c] > p[best]) {
                                best = c;
                            }
                        }
                        Row in = batch.get(r);
                        Object[] values = new Object[in.length() + (named ? 3 : 2)];
                        for (int c = 0; c < in.length(); c++) {
                            values[c] = in.get(c);
                        }
                        int k = in.length();
                        values[k++] = best;
                        if (named) {
                            values[k++] = names.get(best);
                        }
                        values[k] = p;
                        ready.add(RowFactory.create(values));
                    }
                    seen += items.length;
                    if (!rows.hasNext()) {
                        finish();
                    }
                }

                private void finish() {
                    if (!done) {
                        done = true;
                        lease.close();
                    }
                }
            };
        }

        /** The model input of one row; {@code index} counts rows in this partition, for errors. */
        private float[] input(Row row, long index, ImageInput decoder) {
            String name = pathColumn >= 0 && !row.isNullAt(pathColumn) ? row.getString(pathColumn)
                    : "row " + index + " of partition " + org.apache.spark.TaskContext.getPartitionId();
            if (row.isNullAt(column)) {
                throw new IllegalArgumentException("receptive-spark: " + name + ": the input column is null");
            }
            if (images) {
                return decodeImage(decoder, (byte[]) row.get(column), name);
            }
            float[] item = new float[itemSize];
            List<Object> values = row.getList(column);
            if (values.size() != itemSize) {
                throw new IllegalArgumentException("receptive-spark: " + name + " has " + values.size()
                        + " values; the model takes " + itemSize);
            }
            for (int i = 0; i < itemSize; i++) {
                Object v = values.get(i);
                if (v == null) {
                    throw new IllegalArgumentException("receptive-spark: " + name + ": value " + i + " is null");
                }
                item[i] = ((Number) v).floatValue();
            }
            return item;
        }
    }

    /**
     * How images become a model's inputs here: at the model's size or refused, never inverted,
     * normalized as in training.
     *
     * @throws IllegalArgumentException when the model's input is not (1, H, W) or (3, H, W), or it records no
     *     normalization
     */
    static ImageInput imageInput(Shape input, Normalization norm) {
        if (input.rank() != 3 || (input.dim(0) != 1 && input.dim(0) != 3)) {
            throw new IllegalArgumentException("receptive-spark: images can feed models whose input is (1, H, W) or"
                    + " (3, H, W), not " + input);
        }
        if (norm == null) {
            throw new IllegalArgumentException("receptive-spark: the model records no input normalization, so images"
                    + " cannot be fed as in training; save it with one (training records the data's)");
        }
        return ImageInput.builder().shape(input).normalize(norm).invert(ImageInput.Invert.NEVER).resize(false).build();
    }

    /**
     * The model input of one image's bytes.
     *
     * @param name what errors call the image (its path, or its row)
     * @throws IllegalArgumentException naming the image when it cannot be read or has another size
     */
    static float[] decodeImage(ImageInput input, byte[] image, String name) {
        try {
            return input.load(image, name).values();
        } catch (IOException e) {
            throw new IllegalArgumentException("receptive-spark: " + e.getMessage(), e);
        }
    }

    /** Builds a {@link SparkPredictor}: spark and model are required. */
    public static final class Builder {
        private SparkSession spark;
        private Model model;
        private int batchSize = 64;
        private String backend = "auto";

        private Builder() {
        }

        /**
         * The Spark session whose executors predict (required).
         *
         * @param spark the session; the model is broadcast through its context
         * @return this builder
         */
        public Builder spark(SparkSession spark) {
            this.spark = spark;
            return this;
        }

        /**
         * The model whose weights, architecture and info are broadcast when the predictor is built (later changes
         * are not seen). Required; the caller keeps owning it.
         *
         * @param model a classifier
         * @return this builder
         */
        public Builder model(Model model) {
            this.model = model;
            return this;
        }

        /**
         * Rows per forward pass on an executor (default 64).
         *
         * @param batchSize ≥ 1, checked by {@link #build()}
         * @return this builder
         */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /**
         * The executors' backend, as {@link SparkTrainer.Builder#backend}.
         *
         * @param backend "auto" (default), "cpu" or "cuda"
         * @return this builder
         */
        public Builder backend(String backend) {
            this.backend = backend;
            return this;
        }

        /**
         * Checks the settings, copies the model to the host and broadcasts it.
         *
         * @return the predictor; close it to release the broadcast
         * @throws IllegalArgumentException when spark or model is missing, the batch size is below 1 or the
         *     backend name is unknown
         */
        public SparkPredictor build() {
            if (spark == null || model == null) {
                throw new IllegalArgumentException("SparkPredictor: spark and model must be set");
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("SparkPredictor: batch size must be >= 1, got " + batchSize);
            }
            SparkTrainer.checkBackendName(backend, "SparkPredictor");
            return new SparkPredictor(this);
        }
    }
}
