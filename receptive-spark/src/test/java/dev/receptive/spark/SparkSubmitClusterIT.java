package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.Dataset;
import dev.receptive.data.Mnist;
import dev.receptive.data.Normalization;
import dev.receptive.data.Split;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.Predictor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Spark standalone cluster on the loopback interface, started the way an operator starts
 * one: a master and two workers in their own JVMs (Spark's {@code Master} and {@code Worker}
 * classes, which is what {@code sbin/start-master.sh} and {@code start-worker.sh} run), a Spark
 * home whose {@code jars/} holds the Spark jars Maven resolved (the workers build each executor's
 * class path from it), and the applications submitted through Spark's {@code SparkSubmit} in
 * client mode with the module's application jar, as {@code spark-submit} does.
 *
 * <p>Training: the seed net for 40 steps of 64 images on 2 partitions, one executor per worker;
 * one executor is killed with SIGKILL while the application trains. Spark retries the lost tasks
 * on the worker's replacement executor, and the model must be bit for bit the one the same
 * application trains in local mode (which {@link DataParallelTrainingTest} holds equal to
 * single-process training). Inference: {@link PredictOnSpark} over a folder of PNG files on the
 * cluster gives every image's class and probability exactly as the single-process predictor does.
 *
 * <p>Runs after {@code package}, since it submits the application jar: the surefire execution
 * {@code cluster} of the Maven profile {@code spark-cluster}, which CI enables; about a minute and
 * a half on two idle cores.
 */
class SparkSubmitClusterIT {
    private static final int STEPS = 40;
    private static final Pattern FINISHED_TASK = Pattern.compile("Finished task");

    @TempDir
    Path dir;

    @Test
    void trainingSurvivesAKilledExecutorAndInferenceMatchesTheSingleProcess() throws Exception {
        Path appJar = Path.of(System.getProperty("receptive.spark.appJar", "receptive-spark/target/receptive-spark-app.jar"));
        assertTrue(Files.isRegularFile(appJar), "no application jar at " + appJar + " (run after package)");
        Path data = data();
        try (LocalStandaloneCluster cluster = LocalStandaloneCluster.start(dir, 2, "1536m")) {
            // The reference: the same application in local mode.
            Path expectedModel = dir.resolve("local").resolve("model.safetensors");
            Process local = cluster.launch("local", "dev.receptive.spark.TrainMnistOnSpark", List.of(appJar.toString()),
                    train(data, expectedModel, "local[2]"));
            waitFor(cluster, local, "local", 240);

            Path clusterModel = dir.resolve("cluster").resolve("model.safetensors");
            Process training = submit(cluster, "train", appJar, "dev.receptive.spark.TrainMnistOnSpark",
                    train(data, clusterModel, null));
            cluster.awaitLog("train", Pattern.compile("Training seednet on"), training, 120);
            // One executor dies once it has finished tasks of several steps (its log in the worker's
            // folder says so), while the application still has steps to run.
            ProcessHandle victim = cluster.awaitExecutor(0, 60);
            awaitFinishedTasks(dir.resolve("work-0"), 8, training, 240);
            assertTrue(training.isAlive(), "training ended before an executor could be killed: raise STEPS\n"
                    + cluster.log("train"));
            victim.destroyForcibly();
            assertTrue(victim.onExit().get(30, TimeUnit.SECONDS) != null, "the executor did not die");
            waitFor(cluster, training, "train", 300);
            assertTrue(cluster.log("train").contains("saved " + clusterModel), cluster.log("train"));
            assertTrue(cluster.log("train").contains("Lost executor"),
                    "the driver did not see the executor go:\n" + cluster.log("train"));
            assertSameState(expectedModel, clusterModel);

            // Inference on the cluster with the model it trained.
            Path images = pngs(data, 48);
            Path predictions = dir.resolve("predictions.tsv");
            Process predict = submit(cluster, "predict", appJar, "dev.receptive.spark.PredictOnSpark",
                    List.of("--model", clusterModel.toString(), "--images", images.toString(), "--out",
                            predictions.toString(), "--batch", "20", "--backend", "cpu"));
            waitFor(cluster, predict, "predict", 240);
            assertPredictions(clusterModel, data, predictions, 48);
        }
    }

    /** The training application's arguments; master null means the one spark-submit gives. */
    private static List<String> train(Path data, Path out, String master) {
        List<String> args = new ArrayList<>(List.of("--data", data.toString(), "--steps", String.valueOf(STEPS), "--batch",
                "64", "--partitions", "2", "--seed", "3", "--backend", "cpu", "--out", out.toString()));
        if (master != null) {
            args.addAll(List.of("--master", master));
        }
        return args;
    }

    /** spark-submit in client mode: one executor of one core and 1 GB per worker, the Vector API kernels on each. */
    private static Process submit(LocalStandaloneCluster cluster, String name, Path appJar, String mainClass,
            List<String> args) throws IOException {
        List<String> submit = new ArrayList<>(List.of("--master", cluster.url(), "--deploy-mode", "client", "--class",
                mainClass, "--conf", "spark.executor.cores=1", "--conf", "spark.executor.memory=1g",
                "--conf", "spark.executor.extraJavaOptions=--add-modules=jdk.incubator.vector",
                "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.ui.enabled=false", appJar.toString()));
        submit.addAll(args);
        return cluster.launch(name, "org.apache.spark.deploy.SparkSubmit", List.of(), submit);
    }

    /** Waits until the executors under a worker's folder have logged count finished tasks. */
    private static void awaitFinishedTasks(Path workDir, int count, Process app, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            int finished = 0;
            try (Stream<Path> files = Files.walk(workDir)) {
                for (Path f : files.filter(f -> f.getFileName().toString().equals("stderr")).toList()) {
                    Matcher m = FINISHED_TASK.matcher(Files.readString(f));
                    while (m.find()) {
                        finished++;
                    }
                }
            }
            if (finished >= count) {
                return;
            }
            if (!app.isAlive()) {
                fail("the application ended before its executor under " + workDir + " finished " + count + " tasks");
            }
            Thread.sleep(100);
        }
        fail("the executor under " + workDir + " did not finish " + count + " tasks within " + seconds + " s");
    }

    private static void waitFor(LocalStandaloneCluster cluster, Process p, String name, int seconds)
            throws InterruptedException {
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            fail(name + " did not finish within " + seconds + " s:\n" + cluster.log(name));
        }
        assertEquals(0, p.exitValue(), name + " failed:\n" + cluster.log(name));
    }

    /** The fixtures' Fashion-MNIST training images and their first 1,000 test images, under MNIST's file names. */
    private Path data() throws IOException {
        Path data = Files.createDirectories(dir.resolve("data"));
        for (Path fixture : List.of(TinyNet.TRAIN, TinyNet.TEST)) {
            try (Stream<Path> files = Files.list(fixture)) {
                for (Path f : files.toList()) {
                    Files.copy(f, data.resolve(f.getFileName()));
                }
            }
        }
        return data;
    }

    /** The first count test images as 8-bit gray PNG files. */
    private Path pngs(Path data, int count) throws IOException {
        Path images = Files.createDirectories(dir.resolve("images"));
        Dataset bytes = Mnist.load(data, Split.TEST, Normalization.UNIT_RANGE);
        float[] unit = new float[784];
        for (int i = 0; i < count; i++) {
            bytes.copyImage(i, unit, 0);
            BufferedImage png = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int p = 0; p < unit.length; p++) {
                png.getRaster().setSample(p % 28, p / 28, 0, Math.round(unit[p] * 255));
            }
            ImageIO.write(png, "png", images.resolve(String.format(Locale.ROOT, "test-%04d.png", i)).toFile());
        }
        return images;
    }

    private static void assertSameState(Path expected, Path actual) throws IOException {
        Map<String, HostTensor> a = ModelFile.read(expected).model().state();
        Map<String, HostTensor> b = ModelFile.read(actual).model().state();
        assertEquals(a.keySet(), b.keySet());
        for (Map.Entry<String, HostTensor> e : a.entrySet()) {
            assertArrayEquals(e.getValue().data(), b.get(e.getKey()).data(),
                    e.getKey() + ": the cluster's model differs from local mode's");
        }
    }

    /** Each line: the path, the class, its name and probability, as the single-process predictor gives them. */
    private static void assertPredictions(Path modelFile, Path data, Path tsv, int count) throws IOException {
        List<String> lines = Files.readAllLines(tsv);
        assertEquals(count, lines.size(), String.join("\n", lines));
        Dataset test = Mnist.load(data, Split.TEST); // normalized as the model records: the PNGs decode to these values
        try (Backend cpu = Backends.create("cpu"); Model model = ModelFile.load(modelFile, cpu)) {
            Predictor single = model.predictor();
            float[] x = new float[784];
            for (int i = 0; i < count; i++) {
                test.copyImage(i, x, 0);
                float[] p = single.probabilities(x);
                int cls = single.predictClass(x);
                String[] f = lines.get(i).split("\t");
                assertTrue(f[0].endsWith(String.format(Locale.ROOT, "test-%04d.png", i)), lines.get(i));
                assertEquals(String.valueOf(cls), f[1], lines.get(i));
                assertEquals(model.info().classNames().isEmpty() ? String.valueOf(cls) : model.info().classNames().get(cls),
                        f[2], lines.get(i));
                assertEquals(String.format(Locale.ROOT, "%.6f", p[cls]), f[3], lines.get(i));
            }
        }
    }
}
