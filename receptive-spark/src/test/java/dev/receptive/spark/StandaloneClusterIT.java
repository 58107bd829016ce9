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
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.spark.launcher.JavaModuleOptions;
import org.junit.jupiter.api.AfterEach;
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
 * <p>Runs after {@code package} (the surefire execution {@code cluster}), since it submits the
 * application jar; about a minute and a half on two cores.
 */
class StandaloneClusterIT {
    private static final Pattern MASTER_URL = Pattern.compile("Starting Spark master at (spark://\\S+)");
    private static final int STEPS = 40;

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopAll() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    @Test
    void trainingSurvivesAKilledExecutorAndInferenceMatchesTheSingleProcess() throws Exception {
        Path appJar = Path.of(System.getProperty("receptive.spark.appJar", "receptive-spark/target/receptive-spark-app.jar"));
        assertTrue(Files.isRegularFile(appJar), "no application jar at " + appJar + " (run after package)");
        Path home = sparkHome();
        Path data = data();

        // The reference: the same application in local mode.
        Path expectedModel = dir.resolve("local").resolve("model.safetensors");
        Process local = start("local", javaCommand(home, List.of(appJar.toString()), "dev.receptive.spark.TrainMnistOnSpark",
                train(data, expectedModel, "local[2]")), home);
        waitFor(local, "local", 240);

        Process master = start("master", javaCommand(home, List.of(), "org.apache.spark.deploy.master.Master",
                List.of("--host", "127.0.0.1", "--port", "0", "--webui-port", "0")), home);
        String url = awaitLog("master", MASTER_URL, master, 90).group(1);
        List<Process> workers = new ArrayList<>();
        for (int w = 1; w <= 2; w++) {
            Path work = Files.createDirectories(dir.resolve("work-" + w));
            Process worker = start("worker-" + w, javaCommand(home, List.of(), "org.apache.spark.deploy.worker.Worker",
                    List.of("--host", "127.0.0.1", "--port", "0", "--webui-port", "0", "--cores", "1", "--memory", "1536m",
                            "--work-dir", work.toString(), url)), home);
            workers.add(worker);
        }
        for (int w = 1; w <= 2; w++) {
            awaitLog("worker-" + w, Pattern.compile("Successfully registered with master"), workers.get(w - 1), 90);
        }

        Path clusterModel = dir.resolve("cluster").resolve("model.safetensors");
        Process training = start("train", submit(home, appJar, url, "dev.receptive.spark.TrainMnistOnSpark",
                train(data, clusterModel, null)), home);
        awaitLog("train", Pattern.compile("Training the seed net on"), training, 120);
        // One executor dies once it has finished tasks of several steps (its log in the worker's
        // folder says so), while the application still has steps to run.
        ProcessHandle victim = awaitExecutor(workers.get(0), 60);
        awaitFinishedTasks(dir.resolve("work-1"), 8, training, 240);
        assertTrue(training.isAlive(), "training ended before an executor could be killed: raise STEPS\n" + log("train"));
        victim.destroyForcibly();
        assertTrue(victim.onExit().get(30, TimeUnit.SECONDS) != null, "the executor did not die");
        waitFor(training, "train", 300);
        assertTrue(log("train").contains("saved " + clusterModel), log("train"));
        assertTrue(log("train").contains("Lost executor"), "the driver did not see the executor go:\n" + log("train"));
        assertSameState(expectedModel, clusterModel);

        // Inference on the cluster with the model it trained.
        Path images = pngs(data, 48);
        Path predictions = dir.resolve("predictions.tsv");
        Process predict = start("predict", submit(home, appJar, url, "dev.receptive.spark.PredictOnSpark",
                List.of("--model", clusterModel.toString(), "--images", images.toString(), "--out", predictions.toString(),
                        "--batch", "20", "--backend", "cpu")), home);
        waitFor(predict, "predict", 240);
        assertPredictions(clusterModel, data, predictions, 48);
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

    /** A Spark home: jars/ with every Spark jar of this test's class path, conf/ with logging at INFO to stderr. */
    private Path sparkHome() throws IOException {
        Path home = dir.resolve("spark-home");
        Path jars = Files.createDirectories(home.resolve("jars"));
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            String name = p.getFileName().toString();
            // Receptive's own classes travel in the application jar, as on a real cluster.
            if (name.endsWith(".jar") && !name.startsWith("receptive-") && Files.isRegularFile(p)
                    && !Files.exists(jars.resolve(name))) {
                Files.createSymbolicLink(jars.resolve(name), p.toAbsolutePath());
            }
        }
        Path conf = Files.createDirectories(home.resolve("conf"));
        Files.writeString(conf.resolve("log4j2.properties"), String.join("\n",
                "rootLogger.level = info", "rootLogger.appenderRef.stderr.ref = console", "appender.console.type = Console",
                "appender.console.name = console", "appender.console.target = SYSTEM_ERR",
                "appender.console.layout.type = PatternLayout", "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n",
                ""));
        return home;
    }

    /** A java command line as Spark's launcher builds it: its module options, conf/ and jars/ on the class path. */
    private static List<String> javaCommand(Path home, List<String> extraClassPath, String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Arrays.asList(JavaModuleOptions.defaultModuleOptionArray()));
        cmd.addAll(List.of("-Xmx768m", "--add-modules", "jdk.incubator.vector"));
        List<String> cp = new ArrayList<>(List.of(home.resolve("conf").toString(), home.resolve("jars") + File.separator + "*"));
        cp.addAll(extraClassPath);
        cmd.addAll(List.of("-cp", String.join(File.pathSeparator, cp), mainClass));
        cmd.addAll(args);
        return cmd;
    }

    /** spark-submit in client mode: one executor of one core and 1 GB per worker, the Vector API kernels on each. */
    private static List<String> submit(Path home, Path appJar, String master, String mainClass, List<String> args) {
        List<String> submit = new ArrayList<>(List.of("--master", master, "--deploy-mode", "client", "--class", mainClass,
                "--conf", "spark.executor.cores=1", "--conf", "spark.executor.memory=1g",
                "--conf", "spark.executor.extraJavaOptions=--add-modules=jdk.incubator.vector",
                "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.ui.enabled=false", appJar.toString()));
        submit.addAll(args);
        return javaCommand(home, List.of(), "org.apache.spark.deploy.SparkSubmit", submit);
    }

    private Process start(String name, List<String> command, Path home) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", home.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("SPARK_CONF_DIR", home.resolve("conf").toString());
        env.remove("SPARK_MASTER");
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    private String log(String name) {
        try {
            return Files.readString(dir.resolve(name + ".log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private Matcher awaitLog(String name, Pattern pattern, Process p, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            Matcher m = pattern.matcher(log(name));
            if (m.find()) {
                return m;
            }
            if (!p.isAlive()) {
                fail(name + " exited with " + p.exitValue() + " before logging '" + pattern + "':\n" + log(name));
            }
            Thread.sleep(100);
        }
        fail(name + " did not log '" + pattern + "' within " + seconds + " s:\n" + log(name));
        return null;
    }

    /** The executor JVM a worker launched (its child process running CoarseGrainedExecutorBackend). */
    private static ProcessHandle awaitExecutor(Process worker, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            Optional<ProcessHandle> executor = worker.children().filter(c -> c.info().arguments()
                    .map(a -> Arrays.asList(a).contains("org.apache.spark.executor.CoarseGrainedExecutorBackend"))
                    .orElse(false)).findFirst();
            if (executor.isPresent()) {
                return executor.get();
            }
            Thread.sleep(100);
        }
        fail("worker " + worker.pid() + " launched no executor within " + seconds + " s");
        return null;
    }

    /** Waits until the executors under a worker's folder have logged count finished tasks. */
    private void awaitFinishedTasks(Path workDir, int count, Process app, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            int finished = 0;
            try (Stream<Path> files = Files.walk(workDir)) {
                for (Path f : files.filter(f -> f.getFileName().toString().equals("stderr")).toList()) {
                    Matcher m = Pattern.compile("Finished task").matcher(Files.readString(f));
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

    private void waitFor(Process p, String name, int seconds) throws InterruptedException {
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            fail(name + " did not finish within " + seconds + " s:\n" + log(name));
        }
        assertEquals(0, p.exitValue(), name + " failed:\n" + log(name));
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
