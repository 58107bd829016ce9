package dev.receptive.pytorch;

import dev.receptive.backend.Backend;
import dev.receptive.testing.TestBackends;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Receptive against PyTorch's committed outputs (test-data/pytorch/, made by
 * scripts/pytorch/crosscheck.py; its README says how): the seed network, resnet8 with batch
 * norm, a graph of every other layer and merge, and SGD, Adam and AdamW steps. Needs no PyTorch;
 * {@link PyTorchLiveTest} runs the script itself where PyTorch is installed.
 */
class PyTorchFixtureTest {
    static final Path FIXTURES = Path.of("test-data", "pytorch");
    private final Backend cpu = TestBackends.cpu();

    @AfterEach
    void close() {
        cpu.close();
    }

    @Test
    void seedNetworkLogits() throws IOException {
        check("seednet");
    }

    @Test
    void resnet8LogitsWithBatchNormOnItsRunningStatistics() throws IOException {
        check("resnet8");
    }

    @Test
    void graphOfConcatAddDilationPaddedAveragesMapSoftmaxAndBatchNorm1d() throws IOException {
        check("graph");
    }

    @Test
    void sgdAdamAndAdamWSteps() throws IOException {
        PyTorchChecks.checkOptimizers(FIXTURES.resolve("optimizers.pytorch.safetensors"), cpu);
    }

    private void check(String name) throws IOException {
        PyTorchChecks.checkModel(name, FIXTURES.resolve(name + ".pytorch.safetensors"), cpu);
    }
}
