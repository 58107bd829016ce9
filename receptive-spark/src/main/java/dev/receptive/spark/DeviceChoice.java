package dev.receptive.spark;

import java.io.Serializable;
import java.util.Locale;

/**
 * Which backend an executor task uses, decided from the backend choice and the GPUs Spark's
 * scheduler gave the task (its "gpu" resource addresses): a GPU is used only when the scheduler
 * assigned one, never guessed. With "auto", a task without a GPU runs on the CPU; "cuda" without a
 * GPU is an error that names the settings to add.
 *
 * @param backend the choice passed to {@code Backends.create}: "cpu", "auto" or a device backend
 * @param device the device ordinal for that backend (0 on the CPU)
 * @serial exclude (a record's serial form is its components, documented above)
 */
public record DeviceChoice(String backend, int device) implements Serializable {

    /** The settings that give each task one GPU, for messages. */
    static final String GPU_SETTINGS = "spark.executor.resource.gpu.amount=1, spark.task.resource.gpu.amount=1 and"
            + " spark.executor.resource.gpu.discoveryScript";

    /**
     * The backend and device for a task whose "gpu" addresses are {@code gpus} (null or empty when
     * the task has none).
     *
     * @param choice "auto" (also for null), "cpu", or a device backend such as "cuda"; case and surrounding blanks
     *     ignored
     * @param gpus the task's "gpu" resource addresses; the first is used
     * @return the backend and device ordinal
     * @throws IllegalArgumentException when an address is not a device number (a UUID, say)
     * @throws IllegalStateException when a device backend is named but the task has no GPU
     */
    public static DeviceChoice of(String choice, String[] gpus) {
        String c = choice == null ? "auto" : choice.trim().toLowerCase(Locale.ROOT);
        if (c.equals("cpu")) {
            return new DeviceChoice("cpu", 0);
        }
        if (gpus == null || gpus.length == 0) {
            if (c.equals("auto")) {
                return new DeviceChoice("cpu", 0);
            }
            throw new IllegalStateException("receptive-spark: backend " + c + " needs a GPU for each task, but Spark's"
                    + " scheduler assigned none to this task; set " + GPU_SETTINGS + ", or use the cpu backend");
        }
        String address = gpus[0].trim();
        int ordinal;
        try {
            ordinal = Integer.parseInt(address);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("receptive-spark: the task's GPU address is '" + address + "', not a"
                    + " device number; the discovery script must print the devices' indexes (as nvidia-smi --query-gpu=index"
                    + " does)", e);
        }
        if (ordinal < 0) {
            throw new IllegalArgumentException("receptive-spark: the task's GPU address is " + ordinal
                    + ", not a device number >= 0");
        }
        return new DeviceChoice(c, ordinal);
    }
}
