package dev.receptive.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.receptive.nn.Model;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Workspace;
import dev.receptive.testing.Rand;
import dev.receptive.zoo.Zoo;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * An image's outputs do not depend on the batch it comes in: each output is one sum in a fixed
 * order, whatever the batch size (on both kernel paths; the scalar run repeats this class). A
 * server's predictor and a Spark partition then answer exactly as a single prediction would.
 */
class CpuBatchInvarianceTest {
    @Test
    void anImageAloneAndInBatchesOfEverySizeGivesTheSameBits() {
        int n = 11;
        try (CpuBackend cpu = new CpuBackend(2); Model seed = Zoo.seedNet().seed(3).build(cpu);
                Model resnet = Zoo.build("resnet8", cpu, 3)) {
            for (Model model : new Model[] {seed, resnet}) {
                float[] images = new Rand(8).uniform(n * 784, -1, 1);
                try (Workspace ws = model.newWorkspace()) {
                    float[] all = ws.forward(images, Pass.EVAL).toArray();
                    for (int size : new int[] {1, 3, 8, 9}) {
                        for (int start = 0; start + size <= n; start += size) {
                            float[] part = ws.forward(Arrays.copyOfRange(images, start * 784, (start + size) * 784),
                                    Pass.EVAL).toArray();
                            assertArrayEquals(Arrays.copyOfRange(all, start * 10, (start + size) * 10), part,
                                    "items " + start + ".." + (start + size - 1) + " in a batch of " + size);
                        }
                    }
                }
            }
        }
    }
}
