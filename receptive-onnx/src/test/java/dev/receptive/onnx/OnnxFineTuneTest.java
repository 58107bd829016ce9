package dev.receptive.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.receptive.backend.Backend;
import dev.receptive.backend.BackendProvider;
import dev.receptive.backend.Backends;
import dev.receptive.data.Dataset;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.testing.Close;
import dev.receptive.testing.TestBackends;
import dev.receptive.train.Evaluation;
import dev.receptive.train.TrainingStep;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * PyTorch's exported seed-network copy, imported and fine-tuned on Fashion-MNIST like any
 * Receptive model: on the CPU, and on the GPU in lock-step with the CPU where there is one.
 */
class OnnxFineTuneTest {
    private static final int STEPS = 20;
    private static final int BATCH = 32;

    @Test
    void importedModelFineTunesOnTheCpu() throws Exception {
        try (Backend cpu = TestBackends.cpu()) {
            float[] losses = fineTune(cpu);
            assertTrue(losses[STEPS + 1] < 0.8 * losses[STEPS], "test loss " + losses[STEPS] + " before, "
                    + losses[STEPS + 1] + " after " + STEPS + " steps");
        }
    }

    /**
     * The GPU sums in other orders than the CPU (cuDNN's algorithms, cuBLAS), and each step
     * starts from the last one's rounding: the tolerance of CudaModelLockStepTest, 1e-5 absolute
     * and 1e-4 relative, for losses of size ≈ 2.
     */
    @Test
    void importedModelFineTunesOnTheGpuAsOnTheCpu() throws Exception {
        Optional<BackendProvider> cuda = Backends.provider("cuda");
        assumeTrue(cuda.isPresent() && cuda.get().diagnose().available(), "no usable CUDA GPU");
        float[] expected;
        try (Backend cpu = TestBackends.cpu()) {
            expected = fineTune(cpu);
        }
        try (Backend gpu = Backends.create("cuda")) {
            Close.assertClose("training losses, then test losses, on the GPU", expected, fineTune(gpu), 1e-5, 1e-4);
        }
    }

    /**
     * The training loss of each of STEPS SGD steps on the training images, then the test loss on
     * 256 images before (at [STEPS]) and after (at [STEPS + 1]) them.
     */
    private static float[] fineTune(Backend backend) throws Exception {
        ModelDescription imported = OnnxFile.read(Path.of("test-data", "onnx", "seednet.onnx")).model();
        Dataset train = OnnxTestModels.train();
        Dataset test = OnnxTestModels.test().subset(0, 256);
        float[] losses = new float[STEPS + 2];
        try (Model model = imported.place(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer sgd = Optimizer.sgd(0.05).momentum(0.9).build();
                TrainingStep step = new TrainingStep(model, loss, sgd, LrSchedule.constant(), 1)) {
            int item = train.itemShape().size();
            float[] images = new float[BATCH * item];
            float[] labels = new float[BATCH];
            losses[STEPS] = (float) Evaluation.of(model, loss, test, 256).loss();
            for (int s = 0; s < STEPS; s++) {
                for (int i = 0; i < BATCH; i++) {
                    train.copyImage(s * BATCH + i, images, i * item);
                    labels[i] = train.label(s * BATCH + i);
                }
                step.start(0, 0);
                step.gradients(images, labels, BATCH, s, 0, 1f, null);
                losses[s] = loss.value();
                step.update();
            }
            losses[STEPS + 1] = (float) Evaluation.of(model, loss, test, 256).loss();
        }
        return losses;
    }
}
