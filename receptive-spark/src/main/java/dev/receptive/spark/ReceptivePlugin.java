package dev.receptive.spark;

import java.util.Map;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * The executor lifecycle of Receptive on Spark: enable it with
 * {@code spark.plugins=dev.receptive.spark.ReceptivePlugin}, and when an executor stops, the
 * models and backends its tasks made (see {@link ExecutorResources}) are closed, freeing GPU
 * memory and the CPU backend's threads. Without it they live until the JVM exits.
 */
public final class ReceptivePlugin implements SparkPlugin {
    private static volatile String initializedFor;

    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            @Override
            public void init(PluginContext ctx, Map<String, String> extraConf) {
                initializedFor = ctx.executorID();
            }

            @Override
            public void shutdown() {
                ExecutorResources.closeAll();
            }
        };
    }

    /** {@return the executor id of the last executor in this JVM whose plugin started, or null: what tests check} */
    public static String initializedFor() {
        return initializedFor;
    }
}
