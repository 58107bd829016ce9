package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.receptive.backend.Backend;
import dev.receptive.testing.TestBackends;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * The GPU's lock-step tests can fail: on the CPU alone (no GPU needed), two runs of the model path
 * agree, and a 1% error in every step of one run is caught by the same comparison and tolerances
 * CudaModelLockStepTest uses. With plain SGD a learning rate 1% too large is exactly a gradient 1%
 * too large (lr·g), the smallest systematic error a broken GPU op would make (a wrong scale, a
 * dropped item of 16 is 6%, a missed term of a conv window 4% for 5×5); the bounds are 1.4e-3
 * (seednet) and 3.2e-3 (resnet8), so 1e-2 fails with a margin of 3 or more.
 */
class ModelLockStepCheckTest {
    @Test
    void seedNetIdenticalRunsPassAndAOnePercentErrorFails(@TempDir Path dir) throws Exception {
        try (Backend cpu = TestBackends.cpu()) {
            float lr = ModelLockStep.LR;
            ModelLockStep.Run reference = ModelLockStep.modelSteps(cpu, "seednet", lr);
            ModelLockStep.assertLockStep(reference, ModelLockStep.modelSteps(cpu, "seednet", lr),
                    ModelLockStep.SEEDNET_TOLERANCE);
            ModelLockStep.Run off = ModelLockStep.modelSteps(cpu, "seednet", lr * 1.01f);
            assertThrows(AssertionFailedError.class,
                    () -> ModelLockStep.assertLockStep(reference, off, ModelLockStep.SEEDNET_TOLERANCE));
            // The Trainer path runs here too (its epoch of ten steps, its checkpoint), so the GPU run
            // meets no surprise in the test itself.
            ModelLockStep.Run epoch = ModelLockStep.trainerEpoch(cpu, dir.resolve("a"), lr);
            assertEquals(reference.weights().keySet(), epoch.weights().keySet());
        }
    }

    @Test
    void resNet8IdenticalRunsPassAndAOnePercentErrorFails() {
        try (Backend cpu = TestBackends.cpu()) {
            float lr = ModelLockStep.LR;
            ModelLockStep.Run reference = ModelLockStep.modelSteps(cpu, "resnet8", lr);
            ModelLockStep.assertLockStep(reference, ModelLockStep.modelSteps(cpu, "resnet8", lr),
                    ModelLockStep.RESNET8_TOLERANCE);
            ModelLockStep.Run off = ModelLockStep.modelSteps(cpu, "resnet8", lr * 1.01f);
            assertThrows(AssertionFailedError.class,
                    () -> ModelLockStep.assertLockStep(reference, off, ModelLockStep.RESNET8_TOLERANCE));
        }
    }
}
