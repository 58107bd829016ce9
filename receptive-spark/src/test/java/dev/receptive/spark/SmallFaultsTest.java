package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/**
 * The smaller faults of issue 22: a user's spark.plugins kept, the executors' CPU threads from
 * Spark's core settings, executors with other kernel sets refused, and the MNIST script's JVM
 * flags.
 */
class SmallFaultsTest {
    private static final String OURS = ReceptivePlugin.class.getName();

    @Test
    void aUsersPluginsAreKeptAndOursAddedOnce() {
        assertEquals(OURS, ReceptivePlugin.mergedPlugins(null));
        assertEquals(OURS, ReceptivePlugin.mergedPlugins(" "));
        assertEquals("com.example.Metrics," + OURS, ReceptivePlugin.mergedPlugins("com.example.Metrics"));
        assertEquals("a.B," + OURS + ",c.D", ReceptivePlugin.mergedPlugins("a.B, " + OURS + ",c.D"));
        assertEquals("a.B,c.D," + OURS, ReceptivePlugin.mergedPlugins("a.B,,c.D,a.B"));
    }

    @Test
    void executorThreadsFollowSparksCoresNotTheHosts() {
        assertEquals(4, ExecutorResources.cpuThreads(new SparkConf().set("spark.executor.cores", "4"), 64));
        assertEquals(4, ExecutorResources.cpuThreads(new SparkConf().set("spark.executor.cores", "4")
                .set("spark.task.cpus", "2"), 64), "tasks share the executor's one backend: its cores in all");
        assertEquals(8, ExecutorResources.cpuThreads(new SparkConf().set("spark.executor.cores", "16"), 8),
                "never more than the JVM's cores");
        assertEquals(3, ExecutorResources.cpuThreads(new SparkConf().set("spark.master", "local[3]"), 64));
        assertEquals(3, ExecutorResources.cpuThreads(new SparkConf().set("spark.master", "local[3,2]"), 64));
        assertEquals(64, ExecutorResources.cpuThreads(new SparkConf().set("spark.master", "local[*]"), 64));
        assertEquals(64, ExecutorResources.cpuThreads(new SparkConf().set("spark.master", "spark://h:7077"), 64),
                "without a setting, every core (a standalone executor gets all of its worker's)");
    }

    @Test
    void executorsWithOtherKernelSetsAreRefused() {
        SparkTrainer.DataSummary avx512 = summary("cpu: Vector API, 512-bit");
        SparkTrainer.DataSummary avx2 = summary("cpu: Vector API, 256-bit");
        SparkTrainer.checkSameKernels(List.of(avx512, avx512));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> SparkTrainer.checkSameKernels(List.of(avx512, avx512, avx2)));
        assertTrue(e.getMessage().contains("512-bit on one, cpu: Vector API, 256-bit on another"), e.getMessage());
    }

    private static SparkTrainer.DataSummary summary(String kernels) {
        return new SparkTrainer.DataSummary(10, new int[] {1, 28, 28}, List.of("a"), null, null, 42L, kernels);
    }

    @Test
    void theMnistScriptRunsTheDriverWithTheVectorApi() throws IOException {
        String script = Files.readString(Path.of("scripts/spark-mnist.sh"));
        String java = script.substring(script.indexOf("JVM_FLAGS=("));
        assertTrue(java.contains("--add-modules jdk.incubator.vector"), java);
        assertTrue(java.contains("exec java \"${JVM_FLAGS[@]}\""), "the flags reach the java command: " + java);
    }
}
