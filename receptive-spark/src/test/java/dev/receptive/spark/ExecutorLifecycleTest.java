package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/**
 * The executor side's life in local mode, where the one executor ("driver") lives in this JVM:
 * Spark starts the plugin's executor part with the session, tasks share one backend, and
 * stopping the session stops the executor, whose plugin closes the backends. (A cluster's
 * executors run the same plugin code in their own JVMs; local mode cannot show several.)
 */
class ExecutorLifecycleTest {

    @Test
    void tasksShareOneBackendAndThePluginClosesItWhenTheExecutorStops() {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(SharedSpark.session().sparkContext());
        assertEquals("driver", ReceptivePlugin.initializedFor(), "the executor plugin started with the local executor");
        long created = ExecutorResources.backendsCreated();
        List<Long> ids = jsc.parallelize(List.of(0, 1, 2, 3, 4, 5, 6, 7), 8)
                .map(i -> ExecutorResources.backendForTask("cpu").id()).collect();
        assertEquals(8, ids.size());
        assertTrue(ids.stream().distinct().count() == 1, "eight tasks, one backend: " + ids);
        assertTrue(ExecutorResources.backendsCreated() - created <= 1);
        int open = ExecutorResources.openBackends();
        assertTrue(open >= 1);
        long closed = ExecutorResources.backendsClosed();
        List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger jul = java.util.logging.Logger.getLogger(ReceptivePlugin.class.getName());
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                logged.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(capture);
        try {
            SharedSpark.stop();
        } finally {
            jul.removeHandler(capture);
        }
        assertTrue(logged.stream().anyMatch(m -> m.contains("executor driver stopping: closing " + open + " backend")),
                "the plugin says what it closes: " + logged);
        assertTrue(logged.stream().anyMatch(m -> m.contains("executor driver closed its backends in")), "" + logged);

        assertEquals(0, ExecutorResources.openBackends(), "the plugin's shutdown closed every backend");
        assertEquals(closed + open, ExecutorResources.backendsClosed());
    }
}
