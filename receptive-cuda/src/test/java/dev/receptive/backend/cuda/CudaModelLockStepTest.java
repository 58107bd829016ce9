package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.testing.TestBackends;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Networks through the real model path and through the Trainer, ten steps on the GPU in lock-step
 * with the CPU from the same initial weights, data and dropout masks (see {@link ModelLockStep}
 * for why plain SGD and for the tolerances, derived from fp32 rounding; ModelLockStepCheckTest
 * shows on the CPU that a 1% error in the step fails the same comparison).
 */
class CudaModelLockStepTest {
    @Test
    void tenSeedNetStepsStayInLockStepWithTheCpu() {
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip(); Backend cpu = TestBackends.cpu()) {
            ModelLockStep.assertLockStep(ModelLockStep.modelSteps(cpu, "seednet", ModelLockStep.LR),
                    ModelLockStep.modelSteps(gpu, "seednet", ModelLockStep.LR), ModelLockStep.SEEDNET_TOLERANCE);
        }
    }

    /** Batch norm (training statistics, running averages, backward), add and global average pooling. */
    @Test
    void tenResNet8StepsStayInLockStepWithTheCpu() {
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip(); Backend cpu = TestBackends.cpu()) {
            ModelLockStep.assertLockStep(ModelLockStep.modelSteps(cpu, "resnet8", ModelLockStep.LR),
                    ModelLockStep.modelSteps(gpu, "resnet8", ModelLockStep.LR), ModelLockStep.RESNET8_TOLERANCE);
        }
    }

    @Test
    void aTrainerEpochOfTenStepsStaysInLockStepWithTheCpu(@TempDir Path dir) throws Exception {
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip(); Backend cpu = TestBackends.cpu()) {
            // The epoch's mean loss stands for the per-step losses here.
            ModelLockStep.assertLockStep(ModelLockStep.trainerEpoch(cpu, dir.resolve("cpu"), ModelLockStep.LR),
                    ModelLockStep.trainerEpoch(gpu, dir.resolve("gpu"), ModelLockStep.LR),
                    ModelLockStep.SEEDNET_TOLERANCE);
        }
    }
}
