package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A task's device comes from the GPU addresses Spark's scheduler gave it, never from a guess. */
class DeviceChoiceTest {

    @Test
    void theAssignedGpuIsTheDeviceOrdinal() {
        assertEquals(new DeviceChoice("auto", 3), DeviceChoice.of("auto", new String[] {"3"}));
        assertEquals(new DeviceChoice("cuda", 0), DeviceChoice.of("CUDA", new String[] {" 0 "}));
        assertEquals(new DeviceChoice("cuda", 1), DeviceChoice.of("cuda", new String[] {"1", "2"}), "the first of several");
    }

    @Test
    void withoutAnAssignedGpuAutoRunsOnTheCpuAndCudaRefuses() {
        assertEquals(new DeviceChoice("cpu", 0), DeviceChoice.of("auto", null));
        assertEquals(new DeviceChoice("cpu", 0), DeviceChoice.of(null, new String[0]));
        assertEquals(new DeviceChoice("cpu", 0), DeviceChoice.of("cpu", new String[] {"2"}), "cpu ignores GPUs");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DeviceChoice.of("cuda", null));
        assertTrue(e.getMessage().contains("spark.task.resource.gpu.amount"), e.getMessage());
    }

    @Test
    void anAddressThatIsNoDeviceNumberIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DeviceChoice.of("cuda", new String[] {"GPU-8c1f"}));
        assertTrue(e.getMessage().contains("GPU-8c1f"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeviceChoice.of("auto", new String[] {"-1"}));
    }

    @Test
    void shardsSplitTheBatchEvenlyInOrder() {
        int[] batch = {10, 11, 12, 13, 14, 15, 16};
        Shard[] s = Shard.split(5, batch, 3);
        assertEquals(3, s.length);
        assertEquals(0, s[0].offset());
        assertEquals(2, s[1].offset());
        assertEquals(4, s[2].offset());
        assertEquals(java.util.List.of(10, 11), java.util.Arrays.stream(s[0].indices()).boxed().toList());
        assertEquals(java.util.List.of(14, 15, 16), java.util.Arrays.stream(s[2].indices()).boxed().toList());
        assertEquals(5, s[2].step());
        assertEquals(7, s[2].globalBatch());
        assertThrows(IllegalArgumentException.class, () -> Shard.split(0, batch, 8));
        assertThrows(IllegalArgumentException.class, () -> Shard.split(0, batch, 0));
    }
}
