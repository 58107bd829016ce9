package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The soak's verdict on made-up series (no GPU), and a short soak where a GPU is present. */
class CudaMemorySoakTest {
    private static List<CudaMemorySoak.Sample> flat(int upTo) {
        List<CudaMemorySoak.Sample> s = new ArrayList<>();
        for (int step = 100; step <= upTo; step += 100) {
            // The warm-up may grow (first shapes, first eval); afterwards all is flat.
            long live = step < 200 ? 10 : 1000;
            s.add(new CudaMemorySoak.Sample(step, live, 500, step < 200 ? 3 : 9, 80L << 30, 1 << 20));
        }
        return s;
    }

    @Test
    void flatAfterTheWarmUpPasses() {
        assertNull(CudaMemorySoak.growth(flat(2000)));
        List<CudaMemorySoak.Sample> s = flat(2000);
        CudaMemorySoak.Sample last = s.get(s.size() - 1);
        // Free memory may move within one 2 MiB page (the driver's granularity).
        s.set(s.size() - 1, new CudaMemorySoak.Sample(last.step(), last.live(), last.cached(), last.allocations(),
                last.driverFree() - (1 << 20), last.workspace()));
        assertNull(CudaMemorySoak.growth(s));
    }

    @Test
    void anyGrowthAfterTheWarmUpFails() {
        List<CudaMemorySoak.Sample> s = flat(2000);
        CudaMemorySoak.Sample at = s.get(10);
        s.set(10, new CudaMemorySoak.Sample(at.step(), at.live() + 512, at.cached(), at.allocations(), at.driverFree(),
                at.workspace()));
        assertEquals("between step 200 and step 1100: live bytes 1000 -> 1512", CudaMemorySoak.growth(s));
        s = flat(2000);
        at = s.get(19);
        s.set(19, new CudaMemorySoak.Sample(at.step(), at.live(), at.cached(), at.allocations() + 1,
                at.driverFree() - (8L << 20), at.workspace()));
        assertEquals("between step 200 and step 2000: cuMemAlloc calls 9 -> 10, driver free memory 81920 MiB -> 81912 MiB",
                CudaMemorySoak.growth(s));
        assertEquals("no sample after the warm-up of 200 steps", CudaMemorySoak.growth(flat(100)));
    }

    @Test
    void aShortSoakOnTheGpuStaysFlat() {
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip()) {
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            List<CudaMemorySoak.Sample> samples = CudaMemorySoak.run(gpu, 600, new PrintStream(log, true,
                    StandardCharsets.UTF_8));
            assertEquals(6, samples.size());
            assertNull(CudaMemorySoak.growth(samples), log.toString(StandardCharsets.UTF_8));
        }
    }
}
