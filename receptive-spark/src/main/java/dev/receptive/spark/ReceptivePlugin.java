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
    private static final System.Logger LOG = System.getLogger(ReceptivePlugin.class.getName());
    private static volatile String initializedFor;

    /**
     * {@code spark.plugins} with this plugin added: a user's plugins are kept, in their order, and
     * this one is added once at the end when it is not there yet.
     *
     * @param existing the current value, comma-separated; null or blank for none
     * @return the merged list, comma-separated
     */
    public static String mergedPlugins(String existing) {
        java.util.List<String> names = new java.util.ArrayList<>();
        if (existing != null) {
            for (String n : existing.split(",")) {
                if (!n.isBlank() && !names.contains(n.trim())) {
                    names.add(n.trim());
                }
            }
        }
        if (!names.contains(ReceptivePlugin.class.getName())) {
            names.add(ReceptivePlugin.class.getName());
        }
        return String.join(",", names);
    }

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
                // Spark calls this from its shutdown path, which a worker's SIGTERM may cut short:
                // say what is being closed first, so a log shows how far it got.
                long start = System.nanoTime();
                LOG.log(System.Logger.Level.INFO, "receptive-spark: executor " + initializedFor + " stopping: closing "
                        + ExecutorResources.openBackends() + " backend(s) and their models");
                ExecutorResources.closeAll();
                LOG.log(System.Logger.Level.INFO, String.format(java.util.Locale.ROOT,
                        "receptive-spark: executor %s closed its backends in %.1f ms", initializedFor,
                        (System.nanoTime() - start) / 1e6));
            }
        };
    }

    /** {@return the executor id of the last executor in this JVM whose plugin started, or null: what tests check} */
    public static String initializedFor() {
        return initializedFor;
    }
}
