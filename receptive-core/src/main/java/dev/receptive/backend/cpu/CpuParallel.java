package dev.receptive.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A fixed pool of worker threads for data-parallel loops. {@link #forRange} splits [0, n) into
 * contiguous chunks; callers make every index's result independent of the split, so results
 * never depend on the thread count.
 */
final class CpuParallel implements AutoCloseable {

    /** Body of a parallel loop over the half-open index range [from, to). */
    @FunctionalInterface
    interface RangeBody {
        void run(int from, int to);
    }

    private final int threads;
    private final ExecutorService pool;

    /**
     * Threads per core at most: more only wait for a core, and each costs a stack and its share of
     * every op's scratch (100,000 ran the JVM out of memory).
     */
    static final int MAX_PER_CORE = 4;

    CpuParallel(int threads) {
        if (threads < 1 || threads > maxThreads()) {
            throw new IllegalArgumentException("thread count must be from 1 to " + maxThreads() + " (" + MAX_PER_CORE
                    + " per core), got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "receptive-cpu");
            t.setDaemon(true);
            return t;
        });
    }

    /** {@return the most threads a pool may have: {@link #MAX_PER_CORE} per core the JVM may use} */
    static int maxThreads() {
        return MAX_PER_CORE * Runtime.getRuntime().availableProcessors();
    }

    /**
     * Threads from the system property receptive.threads, else RECEPTIVE_THREADS, else all cores.
     *
     * @throws IllegalArgumentException naming the setting when it is not a whole number from 1 to {@link #maxThreads()}
     */
    static int defaultThreads() {
        String property = System.getProperty("receptive.threads");
        String name = property != null ? "receptive.threads" : "RECEPTIVE_THREADS";
        String v = property != null ? property : System.getenv("RECEPTIVE_THREADS");
        if (v != null && !v.isBlank()) {
            int n;
            try {
                n = Integer.parseInt(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + " must be a whole number, got '" + v + "'", e);
            }
            if (n < 1 || n > maxThreads()) {
                throw new IllegalArgumentException(name + " must be from 1 to " + maxThreads() + " (" + MAX_PER_CORE
                        + " per core of the " + Runtime.getRuntime().availableProcessors() + "), got " + n);
            }
            return n;
        }
        return Runtime.getRuntime().availableProcessors();
    }

    int threads() {
        return threads;
    }

    /** Runs body over [0, n), split into at most one chunk per thread; the caller runs the first chunk. */
    void forRange(int n, RangeBody body) {
        forRange(n, 1, body);
    }

    /**
     * Like {@link #forRange(int, RangeBody)}, but chunks hold at least {@code grain} indices so
     * that tiny loops stay on the calling thread.
     */
    void forRange(int n, int grain, RangeBody body) {
        int chunks = (int) Math.min(threads, Math.max(1, (long) n / Math.max(1, grain)));
        if (chunks <= 1 || pool == null) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        List<Future<?>> futures = new ArrayList<>(chunks - 1);
        for (int c = 1; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks);
            int to = (int) ((long) n * (c + 1) / chunks);
            futures.add(pool.submit(() -> body.run(from, to)));
        }
        Throwable failure = null;
        try {
            body.run(0, (int) ((long) n / chunks));
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                failure = failure == null ? e.getCause() : failure;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = failure == null ? e : failure;
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        } else if (failure instanceof Error err) {
            throw err;
        } else if (failure != null) {
            throw new IllegalStateException("parallel loop interrupted", failure);
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
