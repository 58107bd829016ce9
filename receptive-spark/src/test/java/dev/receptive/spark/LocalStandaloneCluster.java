package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.spark.launcher.JavaModuleOptions;

/**
 * A Spark standalone cluster on 127.0.0.1 for the cluster tests, started the way an operator
 * starts one: a master and workers in their own JVMs (Spark's {@code Master} and {@code Worker}
 * classes, which {@code sbin/start-master.sh} and {@code start-worker.sh} run) from a Spark home
 * whose {@code jars/} links every jar of this test's class path (the workers build each
 * executor's class path from it; {@code SPARK_SCALA_VERSION=2.13} tells Spark's launcher which
 * layout it has). Each JVM logs to {@code NAME.log} in the folder. {@link #close()} kills every
 * JVM it started, executors included.
 */
final class LocalStandaloneCluster implements AutoCloseable {
    private final Path dir;
    private final Path home;
    private final List<String> classDirs = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final List<Process> workers = new ArrayList<>();
    private String url;

    private LocalStandaloneCluster(Path dir) throws IOException {
        this.dir = dir;
        this.home = dir.resolve("spark-home");
        Path jars = Files.createDirectories(home.resolve("jars"));
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry).toAbsolutePath();
            if (Files.isDirectory(p)) {
                classDirs.add(p.toString());
            } else if (entry.endsWith(".jar") && Files.isRegularFile(p) && !Files.exists(jars.resolve(p.getFileName()))) {
                Files.createSymbolicLink(jars.resolve(p.getFileName()), p);
            }
        }
        Path conf = Files.createDirectories(home.resolve("conf"));
        // INFO to stderr: the tests read the daemons' and executors' logs.
        Files.writeString(conf.resolve("log4j2.properties"), String.join("\n",
                "rootLogger.level = info", "rootLogger.appenderRef.stderr.ref = console", "appender.console.type = Console",
                "appender.console.name = console", "appender.console.target = SYSTEM_ERR",
                "appender.console.layout.type = PatternLayout", "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n",
                ""));
    }

    /**
     * Starts a master and {@code workers} workers of one core each and waits until every worker
     * has registered.
     *
     * @param dir the folder for the Spark home, the workers' folders and the logs
     * @param workers how many workers
     * @param workerMemory each worker's memory, as Spark writes it ("1g")
     * @return the running cluster
     */
    static LocalStandaloneCluster start(Path dir, int workers, String workerMemory) throws Exception {
        LocalStandaloneCluster c = new LocalStandaloneCluster(dir);
        try {
            int port = freePort();
            Process master = c.launch("master", "org.apache.spark.deploy.master.Master", List.of(), List.of("--host",
                    "127.0.0.1", "--port", Integer.toString(port), "--webui-port", Integer.toString(freePort())));
            waitForPort(port, master, "the master");
            c.url = "spark://127.0.0.1:" + port;
            for (int w = 0; w < workers; w++) {
                Path work = Files.createDirectories(dir.resolve("work-" + w));
                c.workers.add(c.launch("worker-" + w, "org.apache.spark.deploy.worker.Worker", List.of(), List.of("--host",
                        "127.0.0.1", "--cores", "1", "--memory", workerMemory, "--webui-port", Integer.toString(freePort()),
                        "--work-dir", work.toString(), c.url)));
            }
            for (int w = 0; w < workers; w++) {
                c.awaitLog("worker-" + w, Pattern.compile("Successfully registered with master"), c.workers.get(w), 120);
            }
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    /**
     * {@return a Spark session of this JVM as the cluster's driver (client mode) on 127.0.0.1}
     * Executors of one core and {@code executorMemory} get the test class path's class folders and
     * the Vector API module; the first job waits until both workers' executors have registered.
     */
    org.apache.spark.sql.SparkSession driverSession(String appName, String executorMemory) {
        return org.apache.spark.sql.SparkSession.builder().master(url).appName(appName)
                .config("spark.plugins", ReceptivePlugin.class.getName())
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.executor.memory", executorMemory)
                .config("spark.executor.cores", "1")
                .config("spark.executor.extraClassPath", String.join(File.pathSeparator, classDirs))
                .config("spark.executor.extraJavaOptions", "--add-modules=jdk.incubator.vector")
                .config("spark.executorEnv.SPARK_LOCAL_IP", "127.0.0.1")
                .config("spark.scheduler.maxRegisteredResourcesWaitingTime", "60s")
                .config("spark.scheduler.minRegisteredResourcesRatio", "1.0")
                .getOrCreate();
    }

    /** {@return the master's URL} */
    String url() {
        return url;
    }

    /** {@return the Spark home} */
    Path home() {
        return home;
    }

    /** {@return the class folders of this test's class path (the module's classes, for spark.executor.extraClassPath)} */
    List<String> classDirs() {
        return classDirs;
    }

    /** {@return worker w's JVM} */
    Process worker(int w) {
        return workers.get(w);
    }

    /**
     * Starts a JVM as Spark's launcher does (its module options, the Vector API module, conf/ and
     * jars/ on the class path), logging to {@code name.log}.
     */
    Process launch(String name, String mainClass, List<String> extraClassPath, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Arrays.asList(JavaModuleOptions.defaultModuleOptionArray()));
        cmd.addAll(List.of("-Xmx768m", "--add-modules", "jdk.incubator.vector"));
        List<String> cp = new ArrayList<>(List.of(home.resolve("conf").toString(), home.resolve("jars") + File.separator + "*"));
        cp.addAll(extraClassPath);
        cmd.addAll(List.of("-cp", String.join(File.pathSeparator, cp), mainClass));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("SPARK_CONF_DIR", home.resolve("conf").toString());
        pb.environment().remove("SPARK_MASTER");
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    /** {@return what the JVM started as name has logged so far} */
    String log(String name) {
        try {
            return Files.readString(dir.resolve(name + ".log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Waits until the JVM started as name logs a match of pattern; fails when it exits first or the time runs out. */
    void awaitLog(String name, Pattern pattern, Process p, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (pattern.matcher(log(name)).find()) {
                return;
            }
            if (!p.isAlive()) {
                fail(name + " exited with " + p.exitValue() + " before logging '" + pattern + "':\n" + log(name));
            }
            Thread.sleep(100);
        }
        fail(name + " did not log '" + pattern + "' within " + seconds + " s:\n" + log(name));
    }

    /** {@return the executor JVMs worker w runs now (its descendants running CoarseGrainedExecutorBackend)} */
    List<ProcessHandle> executors(int w) {
        return workers.get(w).descendants().filter(h -> h.info().commandLine().orElse("")
                .contains("org.apache.spark.executor.CoarseGrainedExecutorBackend")).toList();
    }

    /** Waits for an executor JVM of worker w. */
    ProcessHandle awaitExecutor(int w, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            Optional<ProcessHandle> executor = executors(w).stream().findFirst();
            if (executor.isPresent()) {
                return executor.get();
            }
            Thread.sleep(100);
        }
        fail("worker " + w + " launched no executor within " + seconds + " s");
        return null;
    }

    /** Kills every JVM it started and their children (executors). */
    @Override
    public void close() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void waitForPort(int port, Process p, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                fail(what + " exited with " + p.exitValue());
            }
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        fail(what + " did not open port " + port);
    }
}
