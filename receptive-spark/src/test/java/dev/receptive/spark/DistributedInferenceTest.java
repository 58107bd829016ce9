package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Normalization;
import dev.receptive.data.Split;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.Predictor;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.train.Trainer;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inference over DataFrames against the single-process predictor, row by row and bit for bit:
 * float-array rows spread over partitions, and PNG files read by Spark's binaryFile source.
 */
class DistributedInferenceTest {
    private static Backend cpu;
    private static Model model;
    private static Dataset test;
    private static Dataset testBytes; // the same images as p / 255, to write the pixel bytes back out

    @BeforeAll
    static void trainAModel() throws IOException {
        cpu = Backends.create("cpu");
        model = TinyNet.build(cpu, 3);
        try (Optimizer adam = Optimizer.adam(1e-3).build(); Loss loss = Loss.softmaxCrossEntropy()) {
            Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(1).batchSize(64).seed(3).build()
                    .fit(FashionMnist.load(TinyNet.TRAIN, Split.TRAIN));
        }
        test = FashionMnist.load(TinyNet.TEST, Split.TEST);
        testBytes = FashionMnist.load(TinyNet.TEST, Split.TEST, Normalization.UNIT_RANGE);
    }

    @AfterAll
    static void close() {
        model.close();
        cpu.close();
    }

    private static float[] image(Dataset d, int i) {
        float[] x = new float[d.itemShape().size()];
        d.copyImage(i, x, 0);
        return x;
    }

    /** Checks one output row against the predictor run on that one image alone. */
    private static void assertSingleProcess(Row row, float[] input, String what) {
        Predictor single = model.predictor();
        float[] expected = single.probabilities(input);
        float[] actual = toFloats(row.getList(row.fieldIndex(SparkPredictor.PROBABILITIES)));
        assertArrayEquals(expected, actual, what + ": probabilities");
        int cls = row.getInt(row.fieldIndex(SparkPredictor.PREDICTION));
        assertEquals(single.predictClass(input), cls, what + ": class");
        assertEquals(FashionMnist.CLASS_NAMES.get(cls), row.getString(row.fieldIndex(SparkPredictor.CLASS)), what);
    }

    private static float[] toFloats(List<Object> values) {
        float[] a = new float[values.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (Float) values.get(i);
        }
        return a;
    }

    @Test
    void everyArrayRowComesBackOnceWithTheSingleProcessPrediction() {
        SparkSession spark = SharedSpark.session();
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false)
                .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < test.size(); i++) {
            float[] x = image(test, i);
            Float[] boxed = new Float[x.length];
            for (int k = 0; k < x.length; k++) {
                boxed[k] = x[k];
            }
            rows.add(RowFactory.create(i, boxed));
        }
        // 7 partitions of 142 or 143 rows: batches of 50 leave a partial batch in each.
        org.apache.spark.sql.Dataset<Row> frame = spark.createDataFrame(rows, schema).repartition(7);
        try (SparkPredictor predictor = SparkPredictor.builder().spark(spark).model(model).batchSize(50).backend("cpu")
                .build()) {
            List<Row> out = predictor.predict(frame, "features").collectAsList();
            assertEquals(test.size(), out.size(), "no row lost or added");
            Set<Integer> seen = new HashSet<>();
            for (Row r : out) {
                int id = r.getInt(0);
                assertTrue(seen.add(id), "row " + id + " came back twice");
                assertSingleProcess(r, image(test, id), "row " + id);
            }
        }
    }

    @Test
    void pngFilesReadByBinaryFileGiveTheSingleProcessPredictions(@TempDir Path dir) throws IOException {
        int count = 120;
        Map<String, Integer> byName = new HashMap<>();
        for (int i = 0; i < count; i++) {
            BufferedImage png = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            float[] unit = image(testBytes, i);
            for (int p = 0; p < unit.length; p++) {
                png.getRaster().setSample(p % 28, p / 28, 0, Math.round(unit[p] * 255));
            }
            String name = String.format("img-%04d.png", i);
            ImageIO.write(png, "png", dir.resolve(name).toFile());
            byName.put(name, i);
        }
        SparkSession spark = SharedSpark.session();
        org.apache.spark.sql.Dataset<Row> files = spark.read().format("binaryFile").load(dir.toString());
        try (SparkPredictor predictor = SparkPredictor.builder().spark(spark).model(model).batchSize(32).build()) {
            List<Row> out = predictor.predict(files, "content").collectAsList();
            assertEquals(count, out.size());
            Set<String> seen = new HashSet<>();
            for (Row r : out) {
                String name = Path.of(java.net.URI.create(r.getString(r.fieldIndex("path")))).getFileName().toString();
                assertTrue(seen.add(name), name + " came back twice");
                // The decoded bytes normalize to exactly the training data's values, so these match too.
                assertSingleProcess(r, image(test, byName.get(name)), name);
            }
        }
    }

    @Test
    void badInputIsNamed(@TempDir Path dir) throws IOException {
        SparkSession spark = SharedSpark.session();
        ImageIO.write(new BufferedImage(20, 20, BufferedImage.TYPE_BYTE_GRAY), "png", dir.resolve("small.png").toFile());
        Files.writeString(dir.resolve("notes.txt"), "not an image");
        try (SparkPredictor predictor = SparkPredictor.builder().spark(spark).model(model).build()) {
            org.apache.spark.sql.Dataset<Row> small = spark.read().format("binaryFile").load(dir.resolve("small.png").toString());
            SparkException e = assertThrows(SparkException.class, () -> predictor.predict(small, "content").collectAsList());
            assertTrue(messages(e).contains("small.png is 20×20 pixels but the model takes 28×28"), messages(e));
            org.apache.spark.sql.Dataset<Row> text = spark.read().format("binaryFile").load(dir.resolve("notes.txt").toString());
            e = assertThrows(SparkException.class, () -> predictor.predict(text, "content").collectAsList());
            assertTrue(messages(e).contains("notes.txt: not a PNG, JPEG, GIF or BMP image"), messages(e));

            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                    () -> predictor.predict(small, "pixels"));
            assertTrue(missing.getMessage().contains("no column 'pixels'"), missing.getMessage());
            IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
                    () -> predictor.predict(small, "path"));
            assertTrue(type.getMessage().contains("is string"), type.getMessage());

            StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.DoubleType), false);
            org.apache.spark.sql.Dataset<Row> shortRow = spark.createDataFrame(
                    List.of(RowFactory.create((Object) new Double[] {1.0, 2.0})), schema);
            e = assertThrows(SparkException.class, () -> predictor.predict(shortRow, "features").collectAsList());
            assertTrue(messages(e).contains("has 2 values; the model takes 784"), messages(e));
        }
        try (Model raw = TinyNet.build(cpu, 1)) {
            raw.setInfo(ModelInfo.NONE);
            org.apache.spark.sql.Dataset<Row> small = spark.read().format("binaryFile").load(dir.resolve("small.png").toString());
            try (SparkPredictor predictor = SparkPredictor.builder().spark(spark).model(raw).build()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> predictor.predict(small, "content"));
                assertTrue(e.getMessage().contains("records no input normalization"), e.getMessage());
            }
        }
    }

    private static String messages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getMessage()).append(" | ");
        }
        return sb.toString();
    }
}
