package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Which thread gets which lane, the bound, refusal, reuse after a thread ends and closing: no GPU needed. */
class LanePoolTest {
    /** A lane that records its id and when it was closed. */
    private static final class FakeLane implements AutoCloseable {
        final int id;
        final List<Integer> closings;

        FakeLane(int id, List<Integer> closings) {
            this.id = id;
            this.closings = closings;
        }

        @Override
        public void close() {
            closings.add(id);
        }
    }

    private final List<Integer> closings = new ArrayList<>();
    private final List<Integer> made = new ArrayList<>();

    private LanePool<FakeLane> pool(int capacity) {
        return new LanePool<>(capacity, id -> {
            made.add(id);
            return new FakeLane(id, closings);
        });
    }

    /** Runs {@code body} on a new thread, waits for it, and returns what it returned. */
    private static <T> T onThread(java.util.function.Supplier<T> body) throws InterruptedException {
        AtomicReference<T> out = new AtomicReference<>();
        Thread t = new Thread(() -> out.set(body.get()));
        t.start();
        t.join();
        return out.get();
    }

    @Test
    void oneLaneMeansEveryThreadSharesLaneZero() throws Exception {
        try (LanePool<FakeLane> pool = pool(1)) {
            assertNull(pool.tryBind(), "capacity 1 binds nothing");
            assertSame(pool.shared(), pool.current());
            assertSame(pool.shared(), onThread(pool::current));
            assertEquals(List.of(0), made);
        }
    }

    @Test
    void threadsGetTheirOwnLanesUpToTheBoundThenShareLaneZero() throws Exception {
        try (LanePool<FakeLane> pool = pool(3)) {
            CountDownLatch hold = new CountDownLatch(1);
            CountDownLatch bound = new CountDownLatch(2);
            List<FakeLane> lanes = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> holders = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Thread t = new Thread(() -> {
                    lanes.add(pool.current());
                    bound.countDown();
                    try {
                        hold.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                t.start();
                holders.add(t);
            }
            bound.await();
            assertEquals(2, lanes.size());
            assertTrue(lanes.get(0).id != lanes.get(1).id && lanes.get(0).id > 0 && lanes.get(1).id > 0,
                    "two threads, two dedicated lanes: " + lanes.get(0).id + ", " + lanes.get(1).id);
            // Both dedicated lanes are held by live threads: a third thread is refused and shares lane 0.
            assertNull(onThread(pool::tryBind));
            assertSame(pool.shared(), onThread(pool::current));
            assertEquals(3, pool.size());
            hold.countDown();
            for (Thread t : holders) {
                t.join();
            }
            // Their threads ended: the next thread reuses a lane and none is made.
            FakeLane reused = onThread(pool::current);
            assertTrue(reused.id == 1 || reused.id == 2);
            assertEquals(List.of(0, 1, 2), made);
        }
        assertEquals(List.of(2, 1, 0), closings, "closed newest first, lane 0 last");
    }

    @Test
    void aThreadKeepsItsLane() throws Exception {
        try (LanePool<FakeLane> pool = pool(4)) {
            FakeLane first = pool.current();
            assertNotNull(first);
            assertTrue(first.id > 0);
            for (int i = 0; i < 5; i++) {
                assertSame(first, pool.current());
            }
            assertSame(first, pool.currentOrShared());
            assertSame(pool.shared(), onThread(pool::currentOrShared), "currentOrShared never binds");
            assertEquals(2, pool.size());
        }
    }

    @Test
    void aLaneThatCannotBeMadeIsRefusedAndTheThreadSharesLaneZero() throws Exception {
        LanePool<FakeLane> pool = new LanePool<>(4, id -> {
            if (id > 0) {
                throw new IllegalStateException("CUDA_ERROR_OUT_OF_MEMORY");
            }
            return new FakeLane(id, closings);
        });
        try (pool) {
            assertNull(pool.tryBind());
            assertSame(pool.shared(), pool.current());
        }
    }

    @Test
    void closedPoolsBindNothingAndBadCapacitiesAreRefused() throws Exception {
        LanePool<FakeLane> pool = pool(2);
        pool.close();
        pool.close(); // twice is harmless
        assertNull(pool.tryBind());
        assertEquals(List.of(0), closings);
        assertThrows(IllegalArgumentException.class, () -> pool(0));
        assertThrows(IllegalArgumentException.class, () -> CudaOptions.defaults().withStreams(0));
        assertThrows(IllegalArgumentException.class, () -> CudaOptions.defaults().withStreams(1025));
        assertEquals(CudaOptions.DEFAULT_STREAMS, CudaOptions.defaults().streams());
        assertEquals(1, CudaOptions.defaults().withStreams(1).withFastMath(true).streams(), "with* keep the streams");
    }
}
