package dev.receptive.data;

import java.nio.file.Path;

/**
 * Where datasets live by default: the system property {@code receptive.data}, else the
 * environment variable {@code RECEPTIVE_DATA}, else {@code ~/.cache/receptive/datasets}, with
 * one subfolder per dataset. Receptive's scripts/fetch-datasets.sh fills the same folder.
 */
public final class DataFolder {
    /** The system property that names the data folder. */
    public static final String PROPERTY = "receptive.data";
    /** The environment variable that names the data folder when the property does not. */
    public static final String ENV = "RECEPTIVE_DATA";

    private DataFolder() {
    }

    /**
     * The data folder.
     *
     * @return the property's folder, else the environment variable's, else ~/.cache/receptive/datasets
     */
    public static Path root() {
        return resolve(System.getProperty(PROPERTY), System.getenv(ENV), System.getProperty("user.home"));
    }

    /**
     * MNIST's folder.
     *
     * @return root()/mnist
     */
    public static Path mnist() {
        return root().resolve("mnist");
    }

    /**
     * Fashion-MNIST's folder.
     *
     * @return root()/fashion-mnist
     */
    public static Path fashionMnist() {
        return root().resolve("fashion-mnist");
    }

    /** The rule of {@link #root()}, on given values so it can be tested without the environment. */
    static Path resolve(String property, String env, String home) {
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(home, ".cache", "receptive", "datasets");
    }
}
