package dev.receptive.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading goes through the file in bounded chunks. A FileChannel read into a heap buffer goes
 * through a temporary direct buffer of the same size that the JDK keeps per thread: reading a
 * tensor whole kept a direct buffer the size of the largest tensor in every reading thread
 * (98 MB for 8 threads in the audit).
 */
class SafetensorsChunkTest {
    @TempDir
    Path dir;

    private static long directBytes() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    }

    @Test
    void largeTensorIsReadExactlyWithoutALargeDirectBuffer() throws Exception {
        int n = 4 << 20; // 16 MiB of floats
        float[] big = new float[n];
        for (int i = 0; i < n; i++) {
            big[i] = i * 0.5f - 7;
        }
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        tensors.put("small", new TensorData(new int[] {3}, new float[] {1, 2, 3}));
        tensors.put("big", new TensorData(new int[] {1024, n / 1024}, big));
        tensors.put("after", new TensorData(new int[] {2}, new float[] {-1, Float.MIN_VALUE}));
        Path file = dir.resolve("big.safetensors");
        Safetensors.write(file, tensors, Map.of());

        // In a thread of its own, whose cached temporary buffers are counted while it lives.
        AtomicReference<Safetensors.Loaded> loaded = new AtomicReference<>();
        AtomicLong grown = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            try {
                long before = directBytes();
                loaded.set(Safetensors.read(file));
                grown.set(directBytes() - before);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        reader.start();
        reader.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertArrayEquals(big, loaded.get().tensors().get("big").data());
        assertArrayEquals(new float[] {1, 2, 3}, loaded.get().tensors().get("small").data());
        assertArrayEquals(new float[] {-1, Float.MIN_VALUE}, loaded.get().tensors().get("after").data());
        assertTrue(grown.get() <= 1 << 20, "direct memory grew by " + grown.get() + " bytes");
    }
}
