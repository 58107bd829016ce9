package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.Split;
import dev.receptive.nn.Model;
import dev.receptive.nn.optim.Optimizer;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** Task slots from the configuration, and the traps of gang-scheduled (barrier) steps. */
class TaskSlotsTest {

    private static SparkConf conf(String... pairs) {
        SparkConf c = new SparkConf(false);
        for (int i = 0; i < pairs.length; i += 2) {
            c.set(pairs[i], pairs[i + 1]);
        }
        return c;
    }

    @Test
    void localMastersCountTheirThreads() {
        assertEquals(1, TaskSlots.available(conf(), "local", 0, 1, 8));
        assertEquals(2, TaskSlots.available(conf(), "local[2]", 0, 2, 8));
        assertEquals(8, TaskSlots.available(conf(), "local[*]", 0, 8, 8));
        assertEquals(4, TaskSlots.available(conf(), "local[4, 3]", 0, 4, 8));
        assertEquals(2, TaskSlots.available(conf("spark.task.cpus", "2"), "local[4]", 0, 4, 8));
        assertEquals(6, TaskSlots.available(conf(), "local-cluster[2, 3, 1024]", 2, 6, 8));
    }

    @Test
    void clustersCountExecutorsCoresAndGpus() {
        assertEquals(12, TaskSlots.available(conf("spark.executor.cores", "4"), "yarn", 3, 12, 8));
        assertEquals(6, TaskSlots.available(conf("spark.executor.cores", "4", "spark.task.cpus", "2"), "yarn", 3, 12, 8));
        // One GPU per executor and per task: one task per executor, whatever its cores.
        assertEquals(3, TaskSlots.available(conf("spark.executor.cores", "4", "spark.executor.resource.gpu.amount", "1",
                "spark.task.resource.gpu.amount", "1"), "yarn", 3, 12, 8));
        assertEquals(6, TaskSlots.available(conf("spark.executor.cores", "4", "spark.executor.resource.gpu.amount", "1",
                "spark.task.resource.gpu.amount", "0.5"), "k8s://https://k:443", 3, 12, 8));
        // Without spark.executor.cores, the total cores Spark reports as its default parallelism.
        assertEquals(16, TaskSlots.available(conf(), "spark://m:7077", 2, 16, 8));
        assertEquals(-1, TaskSlots.available(conf("spark.default.parallelism", "100"), "spark://m:7077", 2, 100, 8));
    }

    @Test
    void gangStepsRefuseDynamicAllocationAndTooFewSlots() {
        IllegalStateException dynamic = assertThrows(IllegalStateException.class,
                () -> TaskSlots.checkGang(conf("spark.dynamicAllocation.enabled", "true"), "yarn", 8, 4));
        assertTrue(dynamic.getMessage().contains("spark.dynamicAllocation.enabled=false"), dynamic.getMessage());
        // Spark ignores dynamic allocation in local mode, and so does the check.
        assertDoesNotThrow(() -> TaskSlots.checkGang(conf("spark.dynamicAllocation.enabled", "true"), "local[2]", 2, 2));
        IllegalStateException slots = assertThrows(IllegalStateException.class,
                () -> TaskSlots.checkGang(conf(), "yarn", 2, 4));
        assertTrue(slots.getMessage().contains("4 partitions") && slots.getMessage().contains("2 task slots"),
                slots.getMessage());
        assertDoesNotThrow(() -> TaskSlots.checkGang(conf(), "yarn", -1, 4)); // unknown: Spark checks
        assertDoesNotThrow(() -> TaskSlots.checkGang(conf(), "yarn", 4, 4));
    }

    @Test
    void aBarrierStepWithMorePartitionsThanSlotsFailsAtOnceInsteadOfRetryingForMinutes() {
        try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, 1);
                Optimizer adam = Optimizer.adam(1e-3).build();
                SparkTrainer trainer = SparkTrainer.builder().spark(SharedSpark.session()).model(model).optimizer(adam)
                        .data(TrainingData.fashionMnist(TinyNet.TRAIN, Split.TRAIN)).batchSize(16).partitions(4)
                        .backend("cpu").gangScheduled(true).build()) {
            long start = System.nanoTime();
            IllegalStateException e = assertThrows(IllegalStateException.class, trainer::step);
            assertTrue(e.getMessage().contains("4 partitions") && e.getMessage().contains("2 task slots"), e.getMessage());
            assertTrue(System.nanoTime() - start < 5_000_000_000L, "failed fast");
        }
    }
}
