package dev.receptive.testing;

import java.lang.management.ManagementFactory;

/** What the current thread allocates, for tests that bound the memory a call may take. */
public final class Allocation {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private Allocation() {
    }

    /** Bytes allocated by the current thread so far (HotSpot's per-thread counter). */
    public static long bytes() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }
}
