package dev.receptive.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.data.Normalization;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.Sequential;
import dev.receptive.testing.Allocation;
import dev.receptive.testing.TestBackends;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Options that ask for more than there is: clamped or refused before anything large is allocated. */
class CliLimitsTest {
    @TempDir
    static Path dir;
    private static Path data;
    private static Path model;

    @BeforeAll
    static void fixtures() throws IOException {
        data = FixtureData.folder(dir);
        model = dir.resolve("model.safetensors");
        try (Backend cpu = TestBackends.cpu(1);
                Model net = Sequential.builder().input(1, 28, 28).add(new Flatten())
                        .add(Dense.builder().units(10).build()).seed(3).build(cpu)) {
            net.setInfo(new ModelInfo(Normalization.FASHION_MNIST, List.of()));
            ModelFile.save(model, net, Map.of(ModelMetadata.DATASET, "fashion-mnist"));
        }
    }

    /**
     * The finding: --batch 1000000 ran out of memory (a 3 GB batch for 10,000 images)
     * and --batch 3000000 printed -1942967296 (3,000,000 · 784 wrapped around an int).
     */
    @Test
    void evaluateClampsTheBatchToTheData() {
        CliRun plain = CliRun.of("evaluate", model.toString(), "--data", data.toString(), "--backend", "cpu");
        assertEquals(0, plain.code(), plain.toString());
        for (String batch : new String[] {"1000000", "3000000", String.valueOf(Integer.MAX_VALUE)}) {
            long before = Allocation.bytes();
            CliRun r = CliRun.of("evaluate", model.toString(), "--data", data.toString(), "--backend", "cpu",
                    "--batch", batch);
            long allocated = Allocation.bytes() - before;
            assertEquals(0, r.code(), batch + ": " + r);
            assertEquals(plain.lastOutLine(), r.lastOutLine(), batch);
            assertTrue(allocated < 256L << 20, batch + ": allocated " + allocated);
        }
    }
}
