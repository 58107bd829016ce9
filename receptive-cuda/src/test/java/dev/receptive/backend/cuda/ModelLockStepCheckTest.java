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
 * The GPU's lock-step tests can fail: on the CPU alone (no GPU needed), two runs of the model
 * path agree, and a 1% error in the optimizer's step of one run is caught by the same comparison
 * and tolerances CudaModelLockStepTest uses.
 */
class ModelLockStepCheckTest {
    @Test
    void identicalRunsPassAndAOnePercentErrorFails(@TempDir Path dir) throws Exception {
        try (Backend cpu = TestBackends.cpu()) {
            float lr = ModelLockStep.LR;
            ModelLockStep.Run reference = ModelLockStep.modelSteps(cpu, lr);
            ModelLockStep.assertLockStep(reference, ModelLockStep.modelSteps(cpu, lr), lr, ModelLockStep.STEPS);
            ModelLockStep.Run off = ModelLockStep.modelSteps(cpu, lr * 1.01f);
            assertThrows(AssertionFailedError.class,
                    () -> ModelLockStep.assertLockStep(reference, off, lr, ModelLockStep.STEPS));
            // The Trainer path runs here too (its epoch of ten steps, its checkpoint), so the GPU run
            // meets no surprise in the test itself.
            ModelLockStep.Run epoch = ModelLockStep.trainerEpoch(cpu, dir.resolve("a"), lr);
            assertEquals(reference.weights().keySet(), epoch.weights().keySet());
        }
    }
}
