package dev.receptive.spark;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.Batches;
import dev.receptive.data.DataFolder;
import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Mnist;
import dev.receptive.data.Split;
import dev.receptive.nn.Model;
import dev.receptive.nn.Predictor;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.train.TrainingStep;
import dev.receptive.zoo.Zoo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;

/**
 * The figures of docs/benchmarks.md's two-worker cluster section (not a test): a Spark standalone
 * master and two workers of one core each on loopback ({@link LocalStandaloneCluster}), this JVM
 * the driver in client mode, against the same training in this JVM alone on all the machine's
 * cores. Both run in one process so that they alternate in one run (single, cluster, single,
 * cluster, ...) on the same cluster.
 *
 * <pre>
 * ClusterBench steps seednet|resnet14 BATCH[,BATCH...] ROUNDS [STEPS]
 * ClusterBench epoch resnet8 BATCH [LOSSES]
 * ClusterBench control resnet8 BATCH LOSSES
 * </pre>
 *
 * steps: ms per step on MNIST, Adam 1e-3, after 2 warm-up steps, over STEPS steps (default 64,
 * 16 at a batch of 256 or more). Single: {@link TrainingStep} on the whole batch with the CPU backend on every
 * core. Cluster: {@link SparkTrainer} in all-reduce mode, two partitions (half the batch each on
 * its executor's one core), the timed steps in one barrier stage; with the stage's own figures
 * (the longest task's compute and exchange per step), so the per-step overhead is the cluster's
 * step less its compute.
 *
 * <p>epoch: one epoch of Fashion-MNIST, Adam 1e-3, seed 1, single then cluster (stages of 100
 * steps); every step's loss on both, their differences, and each model's test accuracy; the
 * single process's test accuracy and losses go to the file LOSSES. control: the single-process
 * epoch alone (no cluster) in this JVM, written to LOSSES when there is no such file, else
 * compared with it: run with other kernels
 * (-XX:MaxVectorSize=32) it shows how far fp32 rounding alone moves an epoch.
 */
public final class ClusterBench {
    private static final int WARMUP = 2;
    private static final long SEED = 1;

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String net = args[1];
        if (mode.equals("control")) {
            control(net, Integer.parseInt(args[2]), Path.of(args[3]));
            return;
        }
        Path dir = Files.createTempDirectory("receptive-cluster-bench");
        long t0 = System.nanoTime();
        try (LocalStandaloneCluster cluster = LocalStandaloneCluster.start(dir, 2, "5g")) {
            SparkSession spark = session(cluster);
            System.out.printf(Locale.ROOT, "CLUSTER up in %.1f s: %s, 2 workers of 1 core; driver %d cores%n",
                    (System.nanoTime() - t0) / 1e9, cluster.url(), Runtime.getRuntime().availableProcessors());
            try {
                List<String> executors = org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext())
                        .parallelize(List.of(0, 1), 2).map(i -> {
                            var caps = ExecutorResources.backendForTask("cpu").backend().capabilities();
                            return caps.kernels() + ", " + caps.threads() + " threads, "
                                    + java.lang.management.ManagementFactory.getRuntimeMXBean().getName();
                        }).collect();
                try (Backend cpu = Backends.create("cpu")) {
                    System.out.printf(Locale.ROOT, "EXECUTORS %s; driver %s, %d threads%n", executors,
                            cpu.capabilities().kernels(), cpu.capabilities().threads());
                }
                if (mode.equals("steps")) {
                    steps(spark, net, Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray(),
                            Integer.parseInt(args[3]), args.length > 4 ? Integer.parseInt(args[4]) : 0);
                } else {
                    epoch(spark, net, Integer.parseInt(args[2]), args.length > 3 ? Path.of(args[3]) : null);
                }
            } finally {
                spark.stop();
            }
        }
    }

    private static SparkSession session(LocalStandaloneCluster cluster) {
        SparkSession spark = cluster.driverSession("receptive-cluster-bench", "4g");
        spark.sparkContext().setLogLevel("WARN");
        return spark;
    }

    private static Model build(String net, Backend cpu) {
        return net.equals("seednet") ? Zoo.seedNet().seed(SEED).build(cpu) : Zoo.build(net, cpu, SEED);
    }

    private static void steps(SparkSession spark, String net, int[] batches, int rounds, int stepsGiven)
            throws Exception {
        Dataset train = Mnist.load(DataFolder.mnist(), Split.TRAIN);
        for (int batch : batches) {
            int steps = stepsGiven > 0 ? stepsGiven : batch >= 256 ? 16 : 64;
            double[] single = new double[rounds];
            double[] clustered = new double[rounds];
            double[] compute = new double[rounds];
            double[] exchange = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                single[round] = single(net, train, batch, steps);
                try (Backend cpu = Backends.create("cpu"); Model model = build(net, cpu);
                        Optimizer adam = Optimizer.adam(1e-3).build();
                        SparkTrainer trainer = SparkTrainer.builder().spark(spark).model(model).optimizer(adam)
                                .data(TrainingData.mnist(DataFolder.mnist(), Split.TRAIN)).batchSize(batch)
                                .partitions(2).seed(SEED).backend("cpu").allReduce(steps).build()) {
                    trainer.train(WARMUP);
                    long start = System.nanoTime();
                    trainer.train(steps);
                    clustered[round] = (System.nanoTime() - start) / 1e6 / steps;
                    SparkTrainer.StageStats st = trainer.lastStage();
                    compute[round] = 1e3 * st.computeSeconds() / st.steps();
                    exchange[round] = 1e3 * st.exchangeSeconds() / st.steps();
                    System.out.printf(Locale.ROOT, "PAIR %s batch %d round %d: single %.1f ms/step, cluster %.1f"
                            + " ms/step (ratio %.3f); in the stage: compute %.1f, exchange %.1f ms/step, %.2f MB sent"
                            + " by task 0 a step; overhead (cluster - compute) %.1f ms/step; the stage's start and end %.0f ms"
                            + " (%d tasks read the broadcast); load %s%n", net, batch, round, single[round], clustered[round],
                            clustered[round] / single[round], compute[round], exchange[round],
                            st.bytesSent() / 1e6 / st.steps(), clustered[round] - compute[round],
                            1e3 * st.seconds() - st.steps() * (compute[round] + exchange[round]), st.broadcastReads(),
                            load());
                }
            }
            double[] ratio = new double[rounds];
            double[] overhead = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratio[r] = clustered[r] / single[r];
                overhead[r] = clustered[r] - compute[r];
            }
            System.out.printf(Locale.ROOT, "RESULT %s batch %d: single %s ms/step, cluster %s ms/step, ratio %s,"
                    + " compute %s, exchange %s, overhead %s ms/step (medians, then the rounds)%n", net, batch,
                    cell(single), cell(clustered), cell(ratio), cell(compute), cell(exchange), cell(overhead));
        }
    }

    /** ms per step of the whole batch in this JVM. */
    private static double single(String net, Dataset train, int batch, int steps) throws Exception {
        int item = train.itemShape().size();
        int[] order = Batches.shuffledOrder(train.size(), SEED, 0);
        float[] x = new float[batch * item];
        float[] y = new float[batch];
        try (Backend cpu = Backends.create("cpu"); Model model = build(net, cpu);
                Optimizer adam = Optimizer.adam(1e-3).build(); Loss loss = Loss.softmaxCrossEntropy();
                TrainingStep step = new TrainingStep(model, loss, adam, LrSchedule.constant(), 1)) {
            float[] lossValue = new float[1];
            long start = 0;
            for (int s = 0; s < WARMUP + steps; s++) {
                if (s == WARMUP) {
                    start = System.nanoTime();
                }
                fill(train, order, s, batch, x, y);
                step.start(0, 0);
                step.gradients(x, y, batch, s, 0, 1f, (l, out, labels) -> cpu.download(l, lossValue));
                step.update();
            }
            return (System.nanoTime() - start) / 1e6 / steps;
        }
    }

    private static void fill(Dataset data, int[] order, int step, int batch, float[] x, float[] y) {
        int item = data.itemShape().size();
        for (int r = 0; r < batch; r++) {
            data.copyImage(order[step * batch + r], x, r * item);
            y[r] = data.label(order[step * batch + r]);
        }
    }

    private static void epoch(SparkSession spark, String net, int batch, Path out) throws Exception {
        Path folder = DataFolder.fashionMnist();
        Dataset train = FashionMnist.load(folder, Split.TRAIN);
        Dataset test = FashionMnist.load(folder, Split.TEST);
        int steps = train.size() / batch;
        long t0 = System.nanoTime();
        double[] singleLoss = new double[steps];
        double singleAccuracy = singleEpoch(net, batch, train, test, singleLoss);
        double singleSeconds = (System.nanoTime() - t0) / 1e9;
        double[] clusterLoss = new double[steps];
        double clusterAccuracy;
        long t1 = System.nanoTime();
        try (Backend cpu = Backends.create("cpu"); Model model = build(net, cpu)) {
            try (Optimizer adam = Optimizer.adam(1e-3).build();
                    SparkTrainer trainer = SparkTrainer.builder().spark(spark).model(model).optimizer(adam)
                            .data(TrainingData.fashionMnist(folder, Split.TRAIN)).batchSize(batch).partitions(2)
                            .seed(SEED).backend("cpu").allReduce(100).build()) {
                List<SparkTrainer.StepResult> results = trainer.fit(1);
                if (results.size() != steps) {
                    throw new IllegalStateException(results.size() + " steps on the cluster, " + steps + " alone");
                }
                for (int s = 0; s < steps; s++) {
                    clusterLoss[s] = results.get(s).loss();
                }
            }
            clusterAccuracy = accuracy(model, test);
        }
        double clusterSeconds = (System.nanoTime() - t1) / 1e9;
        report(net + " single process then cluster", batch, singleLoss, singleAccuracy, clusterLoss, clusterAccuracy);
        System.out.printf(Locale.ROOT, "TIME single %.1f s, cluster %.1f s%n", singleSeconds, clusterSeconds);
        if (out != null) {
            write(out, singleAccuracy, singleLoss);
        }
    }

    private static void write(Path out, double accuracy, double[] losses) throws java.io.IOException {
        List<String> lines = new ArrayList<>(List.of(Double.toString(accuracy)));
        Arrays.stream(losses).forEach(v -> lines.add(Double.toString(v)));
        Files.write(out, lines);
    }

    /** One epoch in this JVM on the whole batches; fills every step's loss and returns the test accuracy. */
    private static double singleEpoch(String net, int batch, Dataset train, Dataset test, double[] losses)
            throws Exception {
        int item = train.itemShape().size();
        int[] order = Batches.shuffledOrder(train.size(), SEED, 0);
        try (Backend cpu = Backends.create("cpu"); Model model = build(net, cpu)) {
            try (Optimizer adam = Optimizer.adam(1e-3).build(); Loss loss = Loss.softmaxCrossEntropy();
                    TrainingStep step = new TrainingStep(model, loss, adam, LrSchedule.constant(), 1)) {
                float[] x = new float[batch * item];
                float[] y = new float[batch];
                float[] lossValue = new float[1];
                for (int s = 0; s < losses.length; s++) {
                    fill(train, order, s, batch, x, y);
                    step.start(0, (double) s / losses.length);
                    step.gradients(x, y, batch, s, 0, 1f, (l, out, labels) -> cpu.download(l, lossValue));
                    step.update();
                    losses[s] = lossValue[0];
                }
            }
            return accuracy(model, test); // after the step lets go of the model
        }
    }

    /**
     * The control for {@code epoch}: the same single-process epoch in this JVM (run it with other
     * kernels, e.g. -XX:MaxVectorSize=32, whose sums round differently), against the losses and
     * accuracy {@code epoch} wrote to {@code reference}: how far rounding alone moves one epoch.
     */
    private static void control(String net, int batch, Path reference) throws Exception {
        Path folder = DataFolder.fashionMnist();
        Dataset train = FashionMnist.load(folder, Split.TRAIN);
        Dataset test = FashionMnist.load(folder, Split.TEST);
        if (!Files.exists(reference)) {
            double[] losses = new double[train.size() / batch];
            write(reference, singleEpoch(net, batch, train, test, losses), losses);
            return;
        }
        List<String> lines = Files.readAllLines(reference);
        double refAccuracy = Double.parseDouble(lines.get(0));
        double[] ref = lines.subList(1, lines.size()).stream().mapToDouble(Double::parseDouble).toArray();
        double[] losses = new double[ref.length];
        double accuracy = singleEpoch(net, batch, train, test, losses);
        try (Backend cpu = Backends.create("cpu")) {
            report(net + " control (" + cpu.capabilities().kernels() + ") against the reference", batch, ref,
                    refAccuracy, losses, accuracy);
        }
    }

    private static void report(String what, int batch, double[] a, double accuracyA, double[] b, double accuracyB) {
        int steps = a.length;
        double[] diff = new double[steps];
        double[] relative = new double[steps];
        for (int s = 0; s < steps; s++) {
            diff[s] = Math.abs(b[s] - a[s]);
            relative[s] = diff[s] / Math.abs(a[s]);
        }
        for (int s : new int[] {0, 1, 9, 99, 299, 599, steps - 1}) {
            System.out.printf(Locale.ROOT, "STEP %d: loss %.6f, %.6f, |difference| %.3g%n", s + 1, a[s], b[s], diff[s]);
        }
        System.out.printf(Locale.ROOT, "RESULT %s, 1 epoch Fashion-MNIST batch %d, %d steps: test accuracy %.2f%% and"
                + " %.2f%% (difference %.2f points); per-step loss |difference| median %.3g, largest %.3g (relative:"
                + " median %.3g, largest %.3g); last 50 steps' mean loss %.4f and %.4f; load %s%n", what, batch, steps,
                100 * accuracyA, 100 * accuracyB, 100 * (accuracyB - accuracyA), median(diff), max(diff),
                median(relative), max(relative), mean(a, steps - 50), mean(b, steps - 50), load());
    }

    private static double accuracy(Model model, Dataset test) {
        Predictor p = model.predictor();
        int item = test.itemShape().size();
        int right = 0;
        for (int from = 0; from < test.size(); from += 256) {
            int n = Math.min(256, test.size() - from);
            float[][] items = new float[n][item];
            for (int r = 0; r < n; r++) {
                test.copyImage(from + r, items[r], 0);
            }
            float[][] probs = p.probabilities(items);
            for (int r = 0; r < n; r++) {
                int best = 0;
                for (int k = 1; k < probs[r].length; k++) {
                    if (probs[r][k] > probs[r][best]) {
                        best = k;
                    }
                }
                right += best == test.label(from + r) ? 1 : 0;
            }
        }
        return (double) right / test.size();
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    private static String cell(double[] v) {
        List<String> runs = new ArrayList<>();
        for (double d : v) {
            runs.add(String.format(Locale.ROOT, "%.1f", d));
        }
        return String.format(Locale.ROOT, "%.3g (%s)", median(v), String.join(", ", runs));
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }

    private static double mean(double[] v, int from) {
        return Arrays.stream(v, Math.max(0, from), v.length).average().orElse(Double.NaN);
    }
}
