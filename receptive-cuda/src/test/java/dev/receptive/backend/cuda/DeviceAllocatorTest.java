package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;

/** The caching allocator's size classes, reuse and accounting, on a fake device (no GPU needed). */
class DeviceAllocatorTest {
    /** Hands out fresh pointer objects, remembers what is outstanding, and can run out of memory. */
    private static final class FakeDevice implements DeviceAllocator.Source {
        final List<CUdeviceptr> outstanding = new ArrayList<>();
        long capacity = Long.MAX_VALUE;
        long used;
        int allocations;

        @Override
        public CUdeviceptr allocate(long bytes) {
            if (used + bytes > capacity) {
                throw new RuntimeException("CUDA_ERROR_OUT_OF_MEMORY");
            }
            used += bytes;
            allocations++;
            CUdeviceptr p = new CUdeviceptr();
            outstanding.add(p);
            sizes.add(bytes);
            return p;
        }

        final List<Long> sizes = new ArrayList<>();

        @Override
        public void free(CUdeviceptr ptr) {
            int i = indexOf(ptr);
            assertTrue(i >= 0, "freed a pointer that is not outstanding");
            used -= sizes.remove(i);
            outstanding.remove(i);
        }

        private int indexOf(CUdeviceptr ptr) {
            for (int i = 0; i < outstanding.size(); i++) {
                if (outstanding.get(i) == ptr) {
                    return i;
                }
            }
            return -1;
        }
    }

    @Test
    void sizeClassesArePowersOfTwoThenQuarterSteps() {
        assertEquals(512, DeviceAllocator.sizeClass(1));
        assertEquals(512, DeviceAllocator.sizeClass(512));
        assertEquals(1024, DeviceAllocator.sizeClass(513));
        assertEquals(1 << 20, DeviceAllocator.sizeClass((1 << 19) + 1));
        assertEquals(1 << 20, DeviceAllocator.sizeClass(1 << 20));
        // Above 1 MiB: 1.25, 1.5, 1.75, 2 MiB, then 2.5, 3, 3.5, 4 MiB, ...
        assertEquals(5 << 18, DeviceAllocator.sizeClass((1 << 20) + 1));
        assertEquals(6 << 18, DeviceAllocator.sizeClass((5 << 18) + 1));
        assertEquals(2 << 20, DeviceAllocator.sizeClass((7 << 18) + 1));
        assertEquals(3 << 20, DeviceAllocator.sizeClass((5 << 19) + 1));
        long big = 64L * 32 * 28 * 28 * 4; // 6.1 MiB: the seed network's first activation at batch 64
        long cls = DeviceAllocator.sizeClass(big);
        assertTrue(cls >= big && cls <= big * 1.25, "at most a quarter wasted: " + cls + " for " + big);
    }

    @Test
    void freedBlocksAreReusedWithoutNewDeviceAllocations() {
        FakeDevice dev = new FakeDevice();
        try (DeviceAllocator a = new DeviceAllocator(dev)) {
            DeviceAllocator.Block x = a.allocate(4000);
            DeviceAllocator.Block y = a.allocate(3000);
            assertEquals(2, a.deviceAllocations());
            assertEquals(8192, a.liveBytes());
            a.free(x);
            assertEquals(4096, a.liveBytes());
            assertEquals(4096, a.cachedBytes());
            DeviceAllocator.Block z = a.allocate(2049); // same 4 KiB class as x
            assertSame(x.ptr(), z.ptr());
            assertEquals(2, a.deviceAllocations());
            assertEquals(0, a.cachedBytes());
            a.free(y);
            a.free(z);
            a.free(z); // a second free of the same block is ignored
            assertEquals(0, a.liveBytes());
            assertEquals(8192, a.cachedBytes());
        }
        assertTrue(dev.outstanding.isEmpty(), "close gives every block back to the device");
    }

    @Test
    void outOfMemoryEmptiesTheCacheAndRetries() {
        FakeDevice dev = new FakeDevice();
        dev.capacity = 3 << 20;
        try (DeviceAllocator a = new DeviceAllocator(dev)) {
            a.free(a.allocate(2 << 20)); // cached, in another size class than the next request
            DeviceAllocator.Block b = a.allocate(1536 << 10);
            assertEquals(0, a.cachedBytes());
            assertEquals(1536 << 10, a.liveBytes());
            assertThrows(RuntimeException.class, () -> a.allocate(2 << 20), "nothing cached left to release");
            a.free(b);
        }
    }

    @Test
    void closeReleasesLiveBlocksAndLaterFreesAreIgnored() {
        FakeDevice dev = new FakeDevice();
        DeviceAllocator a = new DeviceAllocator(dev);
        DeviceAllocator.Block live = a.allocate(100);
        a.free(a.allocate(5000));
        a.close();
        assertTrue(dev.outstanding.isEmpty());
        a.free(live); // a tensor closed after its backend
        assertThrows(IllegalStateException.class, () -> a.allocate(1));
    }

    @Test
    void eachLaneReusesItsOwnBlocksAndTakesAnotherLanesOnlyBehindAFence() {
        FakeDevice dev = new FakeDevice();
        List<String> fences = new ArrayList<>();
        try (DeviceAllocator a = new DeviceAllocator(dev, (waiter, other) -> fences.add(waiter + " waits for " + other))) {
            DeviceAllocator.Block x = a.allocate(4000, 1);
            a.free(x, 1);
            assertSame(x.ptr(), a.allocate(4000, 1).ptr(), "a lane reuses its own block without a fence");
            assertTrue(fences.isEmpty());
            DeviceAllocator.Block y = a.allocate(4000, 2);
            assertEquals(2, a.deviceAllocations(), "lane 1's block is in use, so lane 2 gets a new one");
            a.free(y, 2);
            DeviceAllocator.Block z = a.allocate(3000, 3); // lane 3 has none cached; lane 2 has one of the class
            assertSame(y.ptr(), z.ptr());
            assertEquals(List.of("3 waits for 2"), fences, "taken from another lane only behind a fence");
            assertEquals(2, a.deviceAllocations());
            a.free(z, 3);
            assertEquals(4096, a.cachedBytes());
        }
        assertTrue(dev.outstanding.isEmpty(), "close gives every lane's blocks back");
    }

    @Test
    void withoutAFenceABlockNeverCrossesLanes() {
        FakeDevice dev = new FakeDevice();
        try (DeviceAllocator a = new DeviceAllocator(dev)) {
            a.free(a.allocate(100, 1), 1);
            assertThrows(IllegalStateException.class, () -> a.allocate(100, 2));
        }
    }
}
