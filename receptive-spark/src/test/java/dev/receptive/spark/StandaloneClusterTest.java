package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Split;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.Predictor;
import dev.receptive.nn.optim.Optimizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Spark standalone cluster on loopback: a master and two workers (one core each) in their
 * own JVMs, started from the Spark jars Maven resolved (a SPARK_HOME whose jars/ links them,
 * SPARK_SCALA_VERSION=2.13), executors in their own JVMs. This JVM is the driver (client mode).
 * All-reduce training of one epoch, with one executor killed (SIGKILL) during the third stage,
 * must end bit-identical to the shard-by-shard reference; then batch inference over a DataFrame
 * must give the single-process predictor's bits.
 *
 * <p>Runs in the surefire execution {@code cluster} of the Maven profile {@code spark-cluster},
 * which CI enables (a plain {@code mvn verify} leaves it out): it starts five JVMs and takes
 * about a minute on two idle cores.
 */
class StandaloneClusterTest {
    @TempDir
    Path dir;

    @Test
    void trainsThroughAKilledExecutorAndPredictsOnAStandaloneCluster() throws Exception {
        SharedSpark.stop(); // one SparkContext per JVM: this test's driver is the cluster's
        try (LocalStandaloneCluster cluster = LocalStandaloneCluster.start(dir, 2, "1g")) {
            SparkSession spark = cluster.driverSession("receptive-cluster-test", "700m");
            try {
                train(spark, cluster);
                predict(spark);
            } finally {
                spark.stop();
            }
        }
    }

    private void train(SparkSession spark, LocalStandaloneCluster cluster) throws IOException {
        AtomicInteger stages = new AtomicInteger();
        AtomicInteger killed = new AtomicInteger();
        SparkListener killer = new SparkListener() {
            @Override
            public void onStageSubmitted(SparkListenerStageSubmitted submitted) {
                // The third training stage: kill -9 one executor JVM (its worker starts another).
                {
                    if (stages.incrementAndGet() == 3 && killed.get() == 0) {
                        new Thread(() -> {
                            try {
                                Thread.sleep(200);
                            } catch (InterruptedException e) {
                                return;
                            }
                            cluster.executors(1).forEach(h -> {
                                h.destroyForcibly();
                                killed.incrementAndGet();
                            });
                        }).start();
                    }
                }
            }
        };
        Map<String, HostTensor> trained;
        try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, 7);
                Optimizer adam = Optimizer.adam(1e-3).build();
                SparkTrainer trainer = SparkTrainer.builder().spark(spark).model(model).optimizer(adam)
                        .data(TrainingData.fashionMnist(TinyNet.TRAIN, Split.TRAIN)).batchSize(64).partitions(2)
                        .seed(7).backend("cpu").allReduce(5).stageAttempts(4).exchangeTimeoutMillis(60_000)
                        .build()) {
            trainer.stepsPerEpoch();
            spark.sparkContext().addSparkListener(killer);
            try {
                trainer.fit(1);
            } finally {
                spark.sparkContext().removeSparkListener(killer);
            }
            assertTrue(killed.get() > 0, "an executor was killed");
            assertTrue(trainer.failedStages() >= 1, "the stage that lost it ran again");
            trained = model.stateDict();
        }
        DataParallelTrainingTest.load();
        Map<String, HostTensor> exact = DataParallelTrainingTest.shardByShard(2);
        for (String name : exact.keySet()) {
            assertArrayEquals(exact.get(name).data(), trained.get(name).data(), name + ": bit for bit");
        }
    }

    private void predict(SparkSession spark) throws IOException {
        Dataset test = FashionMnist.load(TinyNet.TEST, Split.TEST);
        try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, 11)) {
            model.setInfo(new dev.receptive.nn.ModelInfo(null, FashionMnist.CLASS_NAMES));
            StructType schema = new StructType().add("id", DataTypes.IntegerType, false)
                    .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
            List<Row> rows = new ArrayList<>();
            int n = 200;
            for (int i = 0; i < n; i++) {
                float[] x = new float[test.itemShape().size()];
                test.copyImage(i, x, 0);
                Float[] boxed = new Float[x.length];
                for (int k = 0; k < x.length; k++) {
                    boxed[k] = x[k];
                }
                rows.add(RowFactory.create(i, boxed));
            }
            try (SparkPredictor predictor = SparkPredictor.builder().spark(spark).model(model).batchSize(32)
                    .backend("cpu").build()) {
                List<Row> out = predictor.predict(spark.createDataFrame(rows, schema).repartition(2), "features")
                        .collectAsList();
                assertEquals(n, out.size());
                Predictor single = model.predictor();
                for (Row r : out) {
                    int id = r.getInt(0);
                    float[] x = new float[test.itemShape().size()];
                    test.copyImage(id, x, 0);
                    List<Object> probs = r.getList(r.fieldIndex(SparkPredictor.PROBABILITIES));
                    float[] got = new float[probs.size()];
                    for (int k = 0; k < got.length; k++) {
                        got[k] = (Float) probs.get(k);
                    }
                    assertArrayEquals(single.probabilities(x), got, "row " + id);
                }
            }
        }
    }
}
