package dev.receptive.serve;

import java.time.Duration;

/**
 * How {@link ModelServer} serves: batching, limits and reloads.
 *
 * @param batching whether single items from concurrent requests share forward passes (a
 *     {@link dev.receptive.nn.BatchingPredictor} per model); without, each request runs its own pass
 * @param maxBatch the most items in one batched pass, 1..256
 * @param maxDelay how long a batch's first item waits for more, ≥ 0
 * @param queueLimit the most items waiting per model (with batching) or being predicted at once
 *     (without); more are answered 429 at once
 * @param maxBodyBytes the largest request body; larger ones are answered 413
 * @param memoryBudget each model's predictor workspace budget in bytes, or -1 for the predictor's default
 * @param reloadInterval how often model files are checked for replacement; zero never
 * @param drainTimeout how long shutdown waits for requests in flight
 */
public record ServeSettings(boolean batching, int maxBatch, Duration maxDelay, int queueLimit, long maxBodyBytes,
        long memoryBudget, Duration reloadInterval, Duration drainTimeout) {
    /** Batching up to 32 items after at most 2 ms, 256 items queued per model, bodies up to 16 MiB, reloads checked every 2 s. */
    public static final ServeSettings DEFAULTS = new ServeSettings(true, 32, Duration.ofMillis(2), 256, 16L << 20, -1,
            Duration.ofSeconds(2), Duration.ofSeconds(30));

    /**
     * Checks the ranges.
     *
     * @throws IllegalArgumentException naming the setting out of range
     */
    public ServeSettings {
        if (maxBatch < 1 || maxBatch > dev.receptive.nn.Predictor.MAX_BUCKET) {
            throw new IllegalArgumentException("serve: max batch must be 1.." + dev.receptive.nn.Predictor.MAX_BUCKET
                    + ", got " + maxBatch);
        }
        if (maxDelay == null || maxDelay.isNegative()) {
            throw new IllegalArgumentException("serve: max delay must be >= 0, got " + maxDelay);
        }
        if (queueLimit < 1) {
            throw new IllegalArgumentException("serve: queue limit must be >= 1, got " + queueLimit);
        }
        if (maxBodyBytes < 1 || maxBodyBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("serve: max body must be 1 byte..2 GiB, got " + maxBodyBytes);
        }
        if (memoryBudget < -1) {
            throw new IllegalArgumentException("serve: memory budget must be >= 0 bytes (or -1 for the default), got "
                    + memoryBudget);
        }
        if (reloadInterval == null || reloadInterval.isNegative()) {
            throw new IllegalArgumentException("serve: reload interval must be >= 0, got " + reloadInterval);
        }
        if (drainTimeout == null || drainTimeout.isNegative()) {
            throw new IllegalArgumentException("serve: drain timeout must be >= 0, got " + drainTimeout);
        }
    }

    /**
     * {@return these settings with batching on or off}
     *
     * @param on whether to batch
     */
    public ServeSettings withBatching(boolean on) {
        return new ServeSettings(on, maxBatch, maxDelay, queueLimit, maxBodyBytes, memoryBudget, reloadInterval,
                drainTimeout);
    }

    /**
     * {@return these settings with another batch size and delay}
     *
     * @param items the most items in one pass
     * @param delay how long a batch waits for more
     */
    public ServeSettings withBatch(int items, Duration delay) {
        return new ServeSettings(batching, items, delay, queueLimit, maxBodyBytes, memoryBudget, reloadInterval,
                drainTimeout);
    }

    /**
     * {@return these settings with other limits}
     *
     * @param items the queue limit per model
     * @param bodyBytes the largest request body
     */
    public ServeSettings withLimits(int items, long bodyBytes) {
        return new ServeSettings(batching, maxBatch, maxDelay, items, bodyBytes, memoryBudget, reloadInterval,
                drainTimeout);
    }

    /**
     * {@return these settings with another workspace budget per model}
     *
     * @param bytes the budget, or -1 for the predictor's default
     */
    public ServeSettings withMemoryBudget(long bytes) {
        return new ServeSettings(batching, maxBatch, maxDelay, queueLimit, maxBodyBytes, bytes, reloadInterval,
                drainTimeout);
    }

    /**
     * {@return these settings with other reload and shutdown times}
     *
     * @param reload how often model files are checked; zero never
     * @param drain how long shutdown waits for requests in flight
     */
    public ServeSettings withTimes(Duration reload, Duration drain) {
        return new ServeSettings(batching, maxBatch, maxDelay, queueLimit, maxBodyBytes, memoryBudget, reload, drain);
    }
}
