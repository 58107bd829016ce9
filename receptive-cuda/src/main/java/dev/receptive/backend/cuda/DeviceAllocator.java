package dev.receptive.backend.cuda;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import jcuda.driver.CUdeviceptr;

/**
 * A caching allocator for device memory (the scheme of PyTorch's CUDA caching allocator, one
 * stream): a request is rounded up to a size class, a freed block goes back to the free list of
 * its class, and the next request of that class reuses it. A training loop that allocates the
 * same shapes every step therefore stops calling cuMemAlloc after its first step. Reuse needs
 * no synchronization because every op runs on the backend's one stream, in order.
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

    /** One allocation: its device address and the size of its class. */
    record Block(CUdeviceptr ptr, long bytes) {
    }

    static final long MIN_BLOCK = 512;
    private static final long SMALL_LIMIT = 1L << 20;

    private final Source source;
    private final Map<Long, ArrayDeque<Block>> free = new HashMap<>();
    private final Set<Block> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private long liveBytes;
    private long cachedBytes;
    private long deviceAllocations;
    private boolean closed;

    DeviceAllocator(Source source) {
        this.source = source;
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
        if (closed) {
            throw new IllegalStateException("cuda: device memory is already released (backend closed)");
        }
        long size = sizeClass(bytes);
        ArrayDeque<Block> list = free.get(size);
        Block b = list == null ? null : list.poll();
        if (b != null) {
            cachedBytes -= size;
        } else {
            b = new Block(fresh(size), size);
        }
        live.add(b);
        liveBytes += size;
        return b;
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

    /** Returns a block to its free list; a no-op once the allocator is closed. */
    void free(Block b) {
        if (closed || !live.remove(b)) {
            return;
        }
        liveBytes -= b.bytes();
        cachedBytes += b.bytes();
        free.computeIfAbsent(b.bytes(), k -> new ArrayDeque<>()).push(b);
    }

    /** Gives every cached block back to the device. */
    void releaseCached() {
        for (ArrayDeque<Block> list : free.values()) {
            for (Block b : list) {
                source.free(b.ptr());
            }
        }
        free.clear();
        cachedBytes = 0;
    }

    /** Bytes held by blocks in use (rounded to their size classes). */
    long liveBytes() {
        return liveBytes;
    }

    /** Bytes held in free lists, ready for reuse. */
    long cachedBytes() {
        return cachedBytes;
    }

    /** How many times memory was taken from the device (cuMemAlloc calls). */
    long deviceAllocations() {
        return deviceAllocations;
    }

    /** Frees every block, in use or cached; blocks freed later are ignored. */
    @Override
    public void close() {
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
