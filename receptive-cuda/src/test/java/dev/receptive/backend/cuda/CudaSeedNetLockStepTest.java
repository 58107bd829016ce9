package dev.receptive.backend.cuda;

import static dev.receptive.testing.Close.assertClose;

import dev.receptive.backend.cpu.CpuBackend;
import dev.receptive.bench.SeedNetStep;
import dev.receptive.testing.Rand;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Ten W1 training steps on the GPU and the CPU from the same weights, data and dropout masks. */
class CudaSeedNetLockStepTest {
    private static final int BATCH = 16;
    private static final int STEPS = 10;
    private static final float LR = 1e-4f;

    @Test
    void tenTrainingStepsStayInLockStepWithTheCpu() {
        Rand rand = new Rand(2026);
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip(); CpuBackend cpu = new CpuBackend();
                SeedNetStep onGpu = new SeedNetStep(gpu, BATCH, 7); SeedNetStep onCpu = new SeedNetStep(cpu, BATCH, 7)) {
            for (int step = 1; step <= STEPS; step++) {
                float[] images = rand.uniform(BATCH * 784, 0, 1);
                float[] labels = rand.labels(BATCH, 10);
                onGpu.setBatch(images, labels);
                onCpu.setBatch(images, labels);
                onGpu.trainStep(LR);
                onCpu.trainStep(LR);
                // The loss of each step comes from weights that differ only by the rounding of
                // earlier steps: fp32 sums in another order, so 1e-4 relative.
                assertClose("loss of step " + step, onCpu.loss(), onGpu.loss(), 1e-5, 1e-4);
            }
            List<float[]> expected = onCpu.parameters();
            List<float[]> actual = onGpu.parameters();
            String[] names = {"w1", "b1", "w2", "b2", "w3", "b3", "w4", "b4"};
            for (int i = 0; i < names.length; i++) {
                // Adam moves each weight by about lr per step whatever the gradient's size, so a
                // gradient that rounds to the other sign near zero moves a weight 2·lr the other
                // way: 2·lr·steps absolute bounds that; everything else agrees to 1e-4 relative.
                assertClose(names[i] + " after " + STEPS + " steps", expected.get(i), actual.get(i), 2 * LR * STEPS,
                        1e-4);
            }
        }
    }
}
