package dev.receptive.backend.cuda;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import jcuda.driver.CUdeviceptr;

/**
 * A caching allocator for device memory (the scheme of PyTorch's CUDA caching allocator): a
 * request is rounded up to a size class, a freed block goes back to the free list of its class,
 * and the next request of that class reuses it. A training loop that allocates the same shapes
 * every step therefore stops calling cuMemAlloc after its first step.
 *
 * <p>Streams: free lists are kept per lane (one stream each, see {@link LanePool}). A block freed
 * by a lane goes to that lane's lists, and the lane's next request reuses it with no
 * synchronization: its stream runs the block's earlier work before the new. A request that finds
 * its class empty on its own lane but cached by another first makes its stream wait for all work
 * queued so far on the other lane ({@link Fence}: an event recorded there, waited for here, no host
 * wait), then takes the block. With one lane (0) this is the one-stream allocator it always was.
 * Thread-safe (each method holds the allocator's monitor).
 *
 * <p>Size classes: powers of two up to 1 MiB, then four classes per power of two
 * (1, 1.25, 1.5, 1.75 · 2^k), so at most 25% of a block is unused.
 */
final class DeviceAllocator implements AutoCloseable {

    /** Where the memory comes from: cuMemAlloc/cuMemFree on the GPU, a fake in tests. */
    interface Source {
        CUdeviceptr allocate(long bytes);

        void free(CUdeviceptr ptr);
    }

    /** Orders a lane's later work after everything queued so far on another lane. */
    interface Fence {
        void waitFor(int waiter, int other);
    }

    /** One allocation: its device address and the size of its class. */
    record Block(CUdeviceptr ptr, long bytes) {
    }

    static final long MIN_BLOCK = 512;
    private static final long SMALL_LIMIT = 1L << 20;

    private final Source source;
    private final Fence fence;
    private final Map<Integer, Map<Long, ArrayDeque<Block>>> free = new HashMap<>(); // lane → class → blocks
    private final Set<Block> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private long liveBytes;
    private long cachedBytes;
    private long deviceAllocations;
    private boolean closed;

    DeviceAllocator(Source source) {
        this(source, (waiter, other) -> {
            throw new IllegalStateException("cuda: a block moved between lanes without a fence");
        });
    }

    DeviceAllocator(Source source, Fence fence) {
        this.source = source;
        this.fence = fence;
    }

    /** The size class holding {@code bytes}. */
    static long sizeClass(long bytes) {
        if (bytes <= MIN_BLOCK) {
            return MIN_BLOCK;
        }
        long pow = Long.highestOneBit(bytes - 1) << 1; // the next power of two >= bytes
        if (pow <= SMALL_LIMIT) {
            return pow;
        }
        long quarter = pow / 8; // classes between pow/2 and pow step by pow/8
        return (bytes + quarter - 1) / quarter * quarter;
    }

    Block allocate(long bytes) {
        return allocate(bytes, 0);
    }

    /** A block for work queued on {@code lane}: its own cache first, then another lane's behind a fence. */
    synchronized Block allocate(long bytes, int lane) {
        if (closed) {
            throw new IllegalStateException("cuda: device memory is already released (backend closed)");
        }
        long size = sizeClass(bytes);
        Block b = poll(lane, size);
        if (b == null) {
            for (Map.Entry<Integer, Map<Long, ArrayDeque<Block>>> other : free.entrySet()) {
                ArrayDeque<Block> list = other.getValue().get(size);
                if (other.getKey() != lane && list != null && !list.isEmpty()) {
                    fence.waitFor(lane, other.getKey());
                    b = list.poll();
                    break;
                }
            }
        }
        if (b != null) {
            cachedBytes -= size;
        } else {
            b = new Block(fresh(size), size);
        }
        live.add(b);
        liveBytes += size;
        return b;
    }

    private Block poll(int lane, long size) {
        Map<Long, ArrayDeque<Block>> mine = free.get(lane);
        ArrayDeque<Block> list = mine == null ? null : mine.get(size);
        return list == null ? null : list.poll();
    }

    private CUdeviceptr fresh(long size) {
        CUdeviceptr p;
        try {
            p = source.allocate(size);
        } catch (RuntimeException outOfMemory) {
            if (cachedBytes == 0) {
                throw outOfMemory;
            }
            releaseCached(); // the cache may hold enough in other size classes
            p = source.allocate(size);
        }
        deviceAllocations++;
        return p;
    }

    void free(Block b) {
        free(b, 0);
    }

    /**
     * Returns a block to {@code lane}'s free list; a no-op once the allocator is closed. The caller
     * has ordered that lane after the block's last writer (the backend fences when they differ).
     */
    synchronized void free(Block b, int lane) {
        if (closed || !live.remove(b)) {
            return;
        }
        liveBytes -= b.bytes();
        cachedBytes += b.bytes();
        free.computeIfAbsent(lane, k -> new HashMap<>()).computeIfAbsent(b.bytes(), k -> new ArrayDeque<>()).push(b);
    }

    /** Gives every cached block back to the device (cuMemFree waits for work still using it). */
    synchronized void releaseCached() {
        for (Map<Long, ArrayDeque<Block>> lane : free.values()) {
            for (ArrayDeque<Block> list : lane.values()) {
                for (Block b : list) {
                    source.free(b.ptr());
                }
            }
        }
        free.clear();
        cachedBytes = 0;
    }

    /** Bytes held by blocks in use (rounded to their size classes). */
    synchronized long liveBytes() {
        return liveBytes;
    }

    /** Bytes held in free lists, ready for reuse. */
    synchronized long cachedBytes() {
        return cachedBytes;
    }

    /** How many times memory was taken from the device (cuMemAlloc calls). */
    synchronized long deviceAllocations() {
        return deviceAllocations;
    }

    /** Frees every block, in use or cached; blocks freed later are ignored. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        releaseCached();
        for (Block b : live) {
            source.free(b.ptr());
        }
        live.clear();
        liveBytes = 0;
        closed = true;
    }
}
