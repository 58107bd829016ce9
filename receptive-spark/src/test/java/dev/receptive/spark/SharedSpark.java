package dev.receptive.spark;

import org.apache.spark.sql.SparkSession;

/**
 * One local[2] Spark session for every test class (starting one costs seconds), with Receptive's
 * executor plugin, bound to the loopback interface. A test that stops it gets a new one on the
 * next {@link #session()}.
 */
final class SharedSpark {
    private static SparkSession spark;
    private static boolean hooked;

    private SharedSpark() {
    }

    static synchronized SparkSession session() {
        if (spark == null) {
            spark = SparkSession.builder().master("local[2]").appName("receptive-spark-tests")
                    .config("spark.plugins", ReceptivePlugin.class.getName())
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "2")
                    .getOrCreate();
            if (!hooked) {
                hooked = true;
                Runtime.getRuntime().addShutdownHook(new Thread(SharedSpark::stop));
            }
        }
        return spark;
    }

    /** Stops the session (its executor shuts down, running the plugin's shutdown). */
    static synchronized void stop() {
        if (spark != null) {
            spark.stop();
            spark = null;
        }
    }
}
