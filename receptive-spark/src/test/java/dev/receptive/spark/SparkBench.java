package dev.receptive.spark;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.Batches;
import dev.receptive.data.DataFolder;
import dev.receptive.data.Dataset;
import dev.receptive.data.Mnist;
import dev.receptive.data.Split;
import dev.receptive.nn.Model;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Predictor;
import dev.receptive.nn.Workspace;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.zoo.Zoo;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The figures of docs/benchmarks.md's Spark section (not a test): one configuration per run, so
 * a shell loop can alternate them.
 *
 * <pre>
 * SparkBench train|infer|job seednet|tiny|resnet14 single|local[1]|local[2]|allreduce[2]
 * SparkBench exchange seednet|tiny|resnet14 P
 * </pre>
 * allreduce[N]: SparkTrainer's all-reduce mode on local[N], N partitions, the 12 steps in one stage.
 * exchange: P threads of this JVM on loopback, reduce-scatter + all-gather of the model's size,
 * 20 rounds after 3: MB/s a task sends (2(P − 1)/P × the model's bytes a round) over the time.
 * train: ms per step of batch 64 after 3 warm-up steps, over 12 steps (single: the Trainer's loop
 * in this JVM; local[N]: SparkTrainer with N partitions). infer: images/s over the 10,000 MNIST
 * test images, batch 64, after one warm-up pass, over two passes. job: ms per empty Spark job
 * of one trivial task per thread (Spark's own latency on the machine).
 */
public final class SparkBench {
    private static final int BATCH = 64;
    private static final int WARMUP = 3;
    private static final int STEPS = 12;

    public static void main(String[] args) throws Exception {
        String what = args[0];
        String net = args[1];
        String where = args[2];
        try (Backend cpu = Backends.create("cpu"); Model model = net.equals("tiny") ? TinyNet.build(cpu, 1)
                : net.startsWith("resnet") ? Zoo.build(net, cpu, 1) : Zoo.seedNet().seed(1).build(cpu)) {
            double result = what.equals("train") ? train(model, where) : what.equals("job") ? emptyJob(where)
                    : what.equals("exchange") ? exchange(model, Integer.parseInt(where)) : infer(model, where);
            System.out.printf(Locale.ROOT, "RESULT %s %s %s %.2f %s%n", what, net, where, result,
                    what.equals("infer") ? "images/s" : what.equals("exchange") ? "MB/s per task" : "ms/step");
        }
    }

    private static SparkSession spark(String master) {
        SparkSession s = SparkSession.builder().master(master).appName("bench")
                .config("spark.plugins", ReceptivePlugin.class.getName()).config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
        s.sparkContext().setLogLevel("WARN");
        return s;
    }

    private static int threads(String master) {
        return Integer.parseInt(master.replaceAll("\\D", ""));
    }

    private static double train(Model model, String where) throws Exception {
        if (where.equals("single")) {
            Dataset train = Mnist.load(DataFolder.mnist(), Split.TRAIN);
            int item = train.itemShape().size();
            int[] order = Batches.shuffledOrder(train.size(), 1, 0);
            float[] x = new float[BATCH * item];
            float[] y = new float[BATCH];
            try (Workspace ws = model.newWorkspace(); Loss loss = Loss.softmaxCrossEntropy();
                    Optimizer adam = Optimizer.adam(1e-3).build();
                    Tensor labels = model.backend().allocate(Shape.of(BATCH))) {
                long start = 0;
                for (int step = 0; step < WARMUP + STEPS; step++) {
                    if (step == WARMUP) {
                        start = System.nanoTime();
                    }
                    for (int r = 0; r < BATCH; r++) {
                        train.copyImage(order[step * BATCH + r], x, r * item);
                        y[r] = train.label(order[step * BATCH + r]);
                    }
                    model.backend().upload(labels, y);
                    model.zeroGrad();
                    loss.compute(ws.forward(x, Pass.train(step)), labels);
                    ws.backward(loss.gradient());
                    adam.step(model.parameters());
                    loss.value(); // the Spark step reads its loss back too
                }
                return (System.nanoTime() - start) / 1e6 / STEPS;
            }
        }
        boolean allReduce = where.startsWith("allreduce");
        SparkSession spark = spark(allReduce ? "local[" + threads(where) + "]" : where);
        try (Optimizer adam = Optimizer.adam(1e-3).build();
                SparkTrainer trainer = SparkTrainer.builder().spark(spark).model(model).optimizer(adam)
                        .data(TrainingData.mnist(DataFolder.mnist(), Split.TRAIN)).batchSize(BATCH)
                        .partitions(threads(where)).seed(1).backend("cpu").allReduce(allReduce ? STEPS : 0).build()) {
            trainer.train(WARMUP);
            long start = System.nanoTime();
            trainer.train(STEPS);
            double ms = (System.nanoTime() - start) / 1e6 / STEPS;
            if (allReduce) {
                SparkTrainer.StageStats st = trainer.lastStage();
                System.out.printf(Locale.ROOT, "STAGE %d steps %.1f s: exchange %.1f ms/step, compute %.1f ms/step,"
                        + " %.1f MB sent by task 0 a step%n", st.steps(), st.seconds(), 1e3 * st.exchangeSeconds()
                        / st.steps(), 1e3 * st.computeSeconds() / st.steps(), st.bytesSent() / 1e6 / st.steps());
            }
            return ms;
        } finally {
            spark.stop();
        }
    }

    /** Loopback all-reduce among P threads (MB/s each task sends). */
    private static double exchange(Model model, int parts) throws Exception {
        int m = Math.toIntExact(model.parameterCount());
        java.util.List<java.nio.channels.ServerSocketChannel> servers = new ArrayList<>();
        java.util.List<java.net.InetSocketAddress> peers = new ArrayList<>();
        for (int q = 0; q < parts; q++) {
            java.nio.channels.ServerSocketChannel s = java.nio.channels.ServerSocketChannel.open().bind(
                    new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), parts);
            servers.add(s);
            peers.add(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), s.socket().getLocalPort()));
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(parts);
        try {
            java.util.List<java.util.concurrent.Future<double[]>> fs = new ArrayList<>();
            for (int q = 0; q < parts; q++) {
                int rank = q;
                fs.add(pool.submit(() -> {
                    try (PeerGroup g = PeerGroup.connect(rank, servers.get(rank), peers, 60_000, () -> false)) {
                        float[] v = new float[m];
                        java.util.Arrays.fill(v, rank);
                        double[][] headers = new double[parts][];
                        long start = 0;
                        long sent0 = 0;
                        for (int round = 0; round < 23; round++) {
                            if (round == 3) {
                                start = System.nanoTime();
                                sent0 = g.bytesSent();
                            }
                            float[] sum = g.reduceScatter(v, new double[2], headers);
                            System.arraycopy(sum, 0, v, PeerGroup.chunkStart(m, parts, rank), sum.length);
                            g.allGather(v);
                        }
                        return new double[] {(g.bytesSent() - sent0) / 1e6, (System.nanoTime() - start) / 1e9};
                    }
                }));
            }
            double mbps = Double.MAX_VALUE;
            for (var f : fs) {
                double[] r = f.get();
                mbps = Math.min(mbps, r[0] / r[1]);
            }
            System.out.printf(Locale.ROOT, "EXCHANGE %d tasks, %d floats: %.2f MB sent per task a round%n", parts, m,
                    2.0 * (parts - 1) / parts * 4 * m / 1e6);
            return mbps;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Spark's own latency: a job of one trivial task per thread that returns nothing (ms). */
    private static double emptyJob(String where) {
        SparkSession spark = spark(where);
        try {
            var jsc = org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext());
            List<Integer> one = new ArrayList<>();
            for (int i = 0; i < threads(where); i++) {
                one.add(i);
            }
            long start = 0;
            for (int job = 0; job < WARMUP + 3 * STEPS; job++) {
                if (job == WARMUP) {
                    start = System.nanoTime();
                }
                jsc.parallelize(one, one.size()).map(i -> i).collect();
            }
            return (System.nanoTime() - start) / 1e6 / (3 * STEPS);
        } finally {
            spark.stop();
        }
    }

    private static double infer(Model model, String where) throws Exception {
        Dataset test = Mnist.load(DataFolder.mnist(), Split.TEST);
        int item = test.itemShape().size();
        if (where.equals("single")) {
            Predictor p = model.predictor();
            long start = 0;
            for (int pass = 0; pass < 3; pass++) {
                if (pass == 1) {
                    start = System.nanoTime();
                }
                for (int from = 0; from < test.size(); from += BATCH) {
                    int n = Math.min(BATCH, test.size() - from);
                    float[][] items = new float[n][item];
                    for (int r = 0; r < n; r++) {
                        test.copyImage(from + r, items[r], 0);
                    }
                    p.probabilities(items);
                }
            }
            return 2.0 * test.size() / ((System.nanoTime() - start) / 1e9);
        }
        SparkSession spark = spark(where);
        try {
            StructType schema = new StructType().add("id", DataTypes.IntegerType, false)
                    .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
            List<Row> rows = new ArrayList<>();
            float[] x = new float[item];
            for (int i = 0; i < test.size(); i++) {
                test.copyImage(i, x, 0);
                Float[] boxed = new Float[item];
                for (int k = 0; k < item; k++) {
                    boxed[k] = x[k];
                }
                rows.add(RowFactory.create(i, boxed));
            }
            org.apache.spark.sql.Dataset<Row> frame = spark.createDataFrame(rows, schema)
                    .repartition(threads(where)).cache();
            frame.count();
            try (SparkPredictor predictor = SparkPredictor.builder().spark(spark).model(model).batchSize(BATCH)
                    .backend("cpu").build()) {
                long start = 0;
                for (int pass = 0; pass < 3; pass++) {
                    if (pass == 1) {
                        start = System.nanoTime();
                    }
                    int n = predictor.predict(frame, "features").select(SparkPredictor.PREDICTION).collectAsList().size();
                    if (n != test.size()) {
                        throw new IllegalStateException(n + " rows");
                    }
                }
                return 2.0 * test.size() / ((System.nanoTime() - start) / 1e9);
            }
        } finally {
            spark.stop();
        }
    }
}
