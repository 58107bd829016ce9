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
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training from DataFrames: the fixture's training set as rows of float arrays and integer
 * labels trains to the bits of the IDX folder's shard-by-shard reference (and the executors'
 * fingerprint of the data is the IDX folder's); PNG bytes read by {@code binaryFile} decode to
 * exactly the IDX set's values; bad columns and labels are refused, named.
 */
class DataFrameTrainingTest {

    private static org.apache.spark.sql.Dataset<Row> arrays(SparkSession spark, Dataset d) {
        StructType schema = new StructType()
                .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add("label", DataTypes.IntegerType, false);
        List<Row> rows = new ArrayList<>();
        float[] x = new float[d.itemShape().size()];
        for (int i = 0; i < d.size(); i++) {
            d.copyImage(i, x, 0);
            Float[] boxed = new Float[x.length];
            for (int k = 0; k < x.length; k++) {
                boxed[k] = x[k];
            }
            rows.add(RowFactory.create(boxed, d.label(i)));
        }
        return spark.createDataFrame(rows, schema);
    }

    @Test
    void floatArraysTrainToTheBitsOfTheIdxFolder() throws IOException {
        DataParallelTrainingTest.load();
        Dataset train = DataParallelTrainingTest.train;
        SparkSession spark = SharedSpark.session();
        TrainingData data = TrainingData.fromDataFrame(arrays(spark, train), "features", "label", Shape.of(1, 28, 28),
                FashionMnist.CLASS_NAMES, Normalization.FASHION_MNIST);
        assertEquals(ExecutorResources.fingerprint(train), ExecutorResources.fingerprint(data.load()),
                "the same values and labels: the same fingerprint");
        Map<String, HostTensor> got;
        try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, 7);
                Optimizer adam = Optimizer.adam(1e-3).build();
                SparkTrainer trainer = SparkTrainer.builder().spark(spark).model(model).optimizer(adam).data(data)
                        .batchSize(64).partitions(2).seed(7).backend("cpu").allReduce(31).build()) {
            trainer.fit(1);
            assertEquals(Normalization.FASHION_MNIST, model.info().normalization());
            got = model.stateDict();
        }
        Map<String, HostTensor> exact = DataParallelTrainingTest.shardByShard(2);
        for (String name : exact.keySet()) {
            assertArrayEquals(exact.get(name).data(), got.get(name).data(), name);
        }
    }

    @Test
    void pngBytesFromBinaryFileDecodeToTheIdxValues(@TempDir Path dir) throws IOException {
        Dataset unit = FashionMnist.load(TinyNet.TEST, Split.TEST, Normalization.UNIT_RANGE);
        Dataset normalized = FashionMnist.load(TinyNet.TEST, Split.TEST);
        int n = 40;
        StructType schema = new StructType().add("content", DataTypes.BinaryType, false)
                .add("label", DataTypes.LongType, false);
        List<Row> rows = new ArrayList<>();
        float[] x = new float[784];
        for (int i = 0; i < n; i++) {
            BufferedImage png = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            unit.copyImage(i, x, 0);
            for (int p = 0; p < x.length; p++) {
                png.getRaster().setSample(p % 28, p / 28, 0, Math.round(x[p] * 255));
            }
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            ImageIO.write(png, "png", bytes);
            rows.add(RowFactory.create(bytes.toByteArray(), (long) unit.label(i)));
        }
        SparkSession spark = SharedSpark.session();
        Dataset loaded = TrainingData.fromDataFrame(spark.createDataFrame(rows, schema), "content", "label",
                Shape.of(1, 28, 28), FashionMnist.CLASS_NAMES, Normalization.FASHION_MNIST).load();
        assertEquals(n, loaded.size());
        float[] want = new float[784];
        for (int i = 0; i < n; i++) {
            normalized.copyImage(i, want, 0);
            loaded.copyImage(i, x, 0);
            assertArrayEquals(want, x, "image " + i);
            assertEquals(normalized.label(i), loaded.label(i));
        }

        StructType bad = new StructType().add("content", DataTypes.StringType, false).add("label", DataTypes.IntegerType,
                false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingData.fromDataFrame(
                spark.createDataFrame(List.of(RowFactory.create("x", 1)), bad), "content", "label", Shape.of(1, 28, 28),
                FashionMnist.CLASS_NAMES, null));
        assertTrue(e.getMessage().contains("column content is string"), e.getMessage());
        StructType doubles = new StructType().add("f", DataTypes.createArrayType(DataTypes.DoubleType), false)
                .add("label", DataTypes.DoubleType, false);
        e = assertThrows(IllegalArgumentException.class, () -> TrainingData.fromDataFrame(
                spark.createDataFrame(List.of(RowFactory.create(new Double[] {1.0, 2.0}, 1.5)), doubles), "f", "label",
                Shape.of(1, 1, 2), List.of("a", "b"), null));
        assertTrue(e.getMessage().contains("row 0 has label 1.5"), e.getMessage());
    }

    /** The driver's memory is checked from the row count before anything is collected or allocated. */
    @Test
    void aFrameTooLargeForTheDriverIsRefusedBeforeCollecting() {
        // 10,000 items of 784 values: 2 × 4 × (7,840,000 + 10,000) bytes, about 60 MB.
        assertEquals(10_000, TrainingData.checkDriverMemory(10_000, 784, 63L << 20));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingData.checkDriverMemory(10_000, 784, 50L << 20));
        assertTrue(e.getMessage().contains("needs 59 MB on the driver and 50 MB are free"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TrainingData.checkDriverMemory(3_000_000, 784, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("more than one array holds"), e.getMessage());
    }
}
