package dev.receptive.spark;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;

/**
 * How many tasks a Spark application can run at once, from its public configuration and status
 * tracker, and the checks a gang-scheduled (barrier) step needs before it is submitted: Spark
 * itself refuses a barrier stage with more tasks than slots only after retrying for
 * spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures × interval (40 × 15 s by default).
 */
final class TaskSlots {
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:\\s*,\\s*\\d+)?])?");
    private static final Pattern LOCAL_CLUSTER = Pattern.compile("local-cluster\\[\\s*(\\d+)\\s*,\\s*(\\d+)\\s*,.*]");

    private TaskSlots() {
    }

    /**
     * The task slots of a running application: local masters from their thread count, clusters
     * from the registered executors and their cores (spark.executor.cores, or the total cores
     * Spark reports as default parallelism when spark.default.parallelism is not set), each
     * divided by spark.task.cpus and limited by the GPUs per executor over the GPUs per task.
     * Returns -1 when the configuration does not tell.
     */
    static int available(SparkContext sc) {
        SparkConf conf = sc.getConf();
        int executors = Math.max(0, sc.statusTracker().getExecutorInfos().length - 1); // the driver is listed too
        return available(conf, sc.master(), executors, sc.defaultParallelism(), Runtime.getRuntime().availableProcessors());
    }

    /** {@link #available(SparkContext)} on given values, so it can be tested without a cluster. */
    static int available(SparkConf conf, String master, int executors, int defaultParallelism, int localCores) {
        int taskCpus = conf.getInt("spark.task.cpus", 1);
        Matcher local = LOCAL.matcher(master.trim());
        if (local.matches()) {
            String n = local.group(1);
            int threads = n == null ? 1 : n.equals("*") ? localCores : Integer.parseInt(n);
            return threads / taskCpus;
        }
        Matcher cluster = LOCAL_CLUSTER.matcher(master.trim());
        int perExecutorCores;
        if (cluster.matches()) {
            executors = Integer.parseInt(cluster.group(1));
            perExecutorCores = Integer.parseInt(cluster.group(2));
        } else if (conf.contains("spark.executor.cores")) {
            perExecutorCores = conf.getInt("spark.executor.cores", 1);
        } else if (!conf.contains("spark.default.parallelism") && executors > 0) {
            perExecutorCores = defaultParallelism / executors; // total registered cores, spread evenly
        } else {
            return -1;
        }
        int perExecutor = perExecutorCores / taskCpus;
        String taskGpus = conf.get("spark.task.resource.gpu.amount", null);
        String executorGpus = conf.get("spark.executor.resource.gpu.amount", null);
        if (taskGpus != null && executorGpus != null) {
            double perTask = Double.parseDouble(taskGpus);
            if (perTask > 0) {
                perExecutor = Math.min(perExecutor, (int) Math.floor(Long.parseLong(executorGpus) / perTask + 1e-9));
            }
        }
        return executors * perExecutor;
    }

    /**
     * Refuses what a barrier stage of {@code partitions} tasks cannot do here: run with dynamic
     * allocation (Spark rejects barrier stages then), or run on fewer slots than tasks.
     *
     * @param slots the slots from {@link #available}, -1 when unknown (then only Spark checks)
     * @throws IllegalStateException naming the setting to change
     */
    static void checkGang(SparkConf conf, String master, int slots, int partitions) {
        boolean local = master.startsWith("local");
        if (!local && conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
            throw new IllegalStateException("receptive-spark: gang-scheduled training runs each step as a barrier stage,"
                    + " which Spark does not run under dynamic allocation; set spark.dynamicAllocation.enabled=false"
                    + " with a fixed spark.executor.instances, or train without gang scheduling");
        }
        if (slots >= 0 && partitions > slots) {
            throw new IllegalStateException("receptive-spark: a gang-scheduled step runs its " + partitions
                    + " partitions at once, but this application has " + slots + " task slot" + (slots == 1 ? "" : "s")
                    + " (executors × cores ÷ spark.task.cpus, limited by GPUs per executor ÷"
                    + " spark.task.resource.gpu.amount); use at most " + slots + " partitions, add executors, or train"
                    + " without gang scheduling (Spark would otherwise retry the stage for about 10 minutes before"
                    + " failing)");
        }
    }
}
