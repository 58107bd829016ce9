package dev.receptive.backend.cuda;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Lanes for threads: lane 0 is shared by every thread that has none of its own (ops on it are
 * serialized by its lock, as the backend did with its one stream), and up to {@code capacity − 1}
 * dedicated lanes are made on demand and bound to one thread each for that thread's life, so the
 * work of one thread stays on one stream (a training loop keeps its single, deterministic stream)
 * and threads on different lanes overlap on the GPU. When every dedicated lane is bound to a live
 * thread, {@link #tryBind} refuses and the thread shares lane 0; the lane of a thread that ended
 * is handed to the next thread that asks (its stream orders the new thread's work after the old).
 * A lane that cannot be made (out of device memory for its handles) is refused the same way.
 *
 * <p>Host-side logic only, generic in the lane so tests run it without a GPU.
 *
 * @param <L> the lane (a stream with its handles and workspaces on the GPU)
 */
final class LanePool<L extends AutoCloseable> implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LanePool.class.getName());
    private record Binding<L>(L lane, WeakReference<Thread> thread) {
        boolean free() {
            Thread t = thread.get();
            return t == null || !t.isAlive();
        }
    }

    private final int capacity;
    private final IntFunction<L> factory;
    private final L shared;
    private final List<Binding<L>> bound = new ArrayList<>(); // index + 1 is the lane's id
    private final ThreadLocal<L> mine = new ThreadLocal<>();
    private boolean closed;
    private boolean warned;

    /**
     * Makes lane 0 at once.
     *
     * @param capacity lanes in all, lane 0 included, ≥ 1 (1: every thread shares lane 0)
     * @param factory makes lane {@code id}; may throw when the device cannot hold another
     */
    LanePool(int capacity, IntFunction<L> factory) {
        if (capacity < 1) {
            throw new IllegalArgumentException("cuda: streams must be >= 1, got " + capacity);
        }
        this.capacity = capacity;
        this.factory = factory;
        this.shared = factory.apply(0);
    }

    /** The lane every thread without its own uses. */
    L shared() {
        return shared;
    }

    /** The calling thread's own lane, or the shared lane; never makes or binds a lane. */
    L currentOrShared() {
        L l = mine.get();
        return l != null ? l : shared;
    }

    /** The calling thread's lane: its own, a newly bound one, or the shared lane when {@link #tryBind} refuses. */
    L current() {
        L l = mine.get();
        if (l != null) {
            return l;
        }
        l = tryBind();
        return l != null ? l : shared;
    }

    /**
     * Binds a dedicated lane to the calling thread: a lane whose thread ended, else a new one while
     * fewer than capacity exist. Null (refused) when all are bound to live threads, when capacity
     * is 1, when the pool is closed, or when a new lane cannot be made.
     */
    synchronized L tryBind() {
        L l = mine.get();
        if (l != null || closed) {
            return l;
        }
        Thread me = Thread.currentThread();
        for (int i = 0; i < bound.size(); i++) {
            Binding<L> b = bound.get(i);
            if (b.free()) {
                bound.set(i, new Binding<>(b.lane(), new WeakReference<>(me)));
                mine.set(b.lane());
                return b.lane();
            }
        }
        if (bound.size() + 1 >= capacity) {
            return null;
        }
        try {
            l = factory.apply(bound.size() + 1);
        } catch (RuntimeException cannotMake) {
            if (warned) {
                return null; // once: a thread without a lane asks again at every op
            }
            warned = true;
            LOG.log(System.Logger.Level.WARNING, "cuda: stream " + (bound.size() + 1) + " could not be made ("
                    + cannotMake.getMessage() + "); threads without one share stream 0");
            return null;
        }
        bound.add(new Binding<>(l, new WeakReference<>(me)));
        mine.set(l);
        return l;
    }

    /** Lanes made so far, lane 0 included. */
    synchronized int size() {
        return bound.size() + 1;
    }

    /** Every lane made so far, lane 0 first. */
    synchronized List<L> all() {
        List<L> all = new ArrayList<>();
        all.add(shared);
        for (Binding<L> b : bound) {
            all.add(b.lane());
        }
        return all;
    }

    /** Closes every lane, the newest first and lane 0 last; later binds are refused. */
    @Override
    public synchronized void close() throws Exception {
        if (closed) {
            return;
        }
        closed = true;
        Exception first = null;
        List<L> all = all();
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                all.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        bound.clear();
        if (first != null) {
            throw first;
        }
    }
}
