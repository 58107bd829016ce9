package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.testing.TestBackends;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed network through the real model path and through the Trainer, ten steps on the GPU in
 * lock-step with the CPU from the same initial weights, data and dropout masks (see
 * {@link ModelLockStep} for the tolerances).
 */
class CudaModelLockStepTest {
    @Test
    void tenModelStepsStayInLockStepWithTheCpu() {
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip(); Backend cpu = TestBackends.cpu()) {
            ModelLockStep.assertLockStep(ModelLockStep.modelSteps(cpu, ModelLockStep.LR),
                    ModelLockStep.modelSteps(gpu, ModelLockStep.LR), ModelLockStep.LR, ModelLockStep.STEPS);
        }
    }

    @Test
    void aTrainerEpochOfTenStepsStaysInLockStepWithTheCpu(@TempDir Path dir) throws Exception {
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip(); Backend cpu = TestBackends.cpu()) {
            // The epoch's mean loss stands for the per-step losses here.
            ModelLockStep.assertLockStep(ModelLockStep.trainerEpoch(cpu, dir.resolve("cpu"), ModelLockStep.LR),
                    ModelLockStep.trainerEpoch(gpu, dir.resolve("gpu"), ModelLockStep.LR), ModelLockStep.LR,
                    ModelLockStep.STEPS);
        }
    }
}
