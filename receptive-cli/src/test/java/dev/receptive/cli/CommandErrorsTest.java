package dev.receptive.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.data.Dataset;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.Model;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.testing.TestBackends;
import dev.receptive.train.RunFolder;
import dev.receptive.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mistakes a user makes on the command line get exit code 2 and one line that says what to do:
 * a mistyped command or option, a bad bench setting, a checkpoint where a model file belongs.
 */
class CommandErrorsTest {
    @TempDir
    Path dir;

    @Test
    void aMistypedCommandGetsTheClosestOne() {
        CliRun r = CliRun.of("trian", "--epochs", "1");
        assertEquals(2, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().contains("'trian'") && r.err().contains("did you mean train?"), r.toString());
    }

    @Test
    void aMistypedOptionGetsTheClosestOne() {
        CliRun r = CliRun.of("train", "--epoch", "1");
        assertEquals(2, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().contains("did you mean --epochs?"), r.toString());
    }

    @Test
    void benchRefusesZeroSamplesBeforeMeasuring() {
        CliRun r = CliRun.of("bench", "--samples", "0", "--backend", "cpu");
        assertEquals(2, r.code(), r.toString());
        assertEquals(List.of("receptive bench: --samples must be >= 1, got 0"), r.errLines());
        assertEquals("", r.out(), "nothing was measured");
    }

    @Test
    void benchRefusesABatchBelowOne() {
        CliRun r = CliRun.of("bench", "--train-batches", "256,0", "--backend", "cpu");
        assertEquals(2, r.code(), r.toString());
        assertEquals(List.of("receptive bench: --train-batches must be >= 1, got 0"), r.errLines());
    }

    @Test
    void benchOnAnUnknownBackendIsBadUsage() {
        CliRun r = CliRun.of("bench", "--backend", "tpu");
        assertEquals(2, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("receptive bench: backend: unknown choice 'tpu'"), r.toString());
    }

    @Test
    void infoDescribesACheckpointAndEvaluateSaysWhichFileToUse() throws IOException {
        Path checkpoint = trainOneEpoch(dir.resolve("run")).resolve(RunFolder.CHECKPOINT);

        CliRun info = CliRun.of("info", checkpoint.toString());
        assertEquals(0, info.code(), info.toString());
        assertTrue(info.out().contains("a training checkpoint, not a model file"), info.toString());
        assertTrue(info.out().contains("state:   after epoch 1, step 2; seed 5, batch size 16, 40 training images"),
                info.toString());
        assertTrue(info.out().contains("evaluate and predict take " + checkpoint.resolveSibling("model.safetensors")
                + " (the best epoch's)"), info.toString());
        assertTrue(info.out().contains("Total params: 7,850"), info.toString());

        CliRun evaluate = CliRun.of("evaluate", checkpoint.toString());
        assertEquals(2, evaluate.code(), evaluate.toString());
        assertEquals(1, evaluate.errLines().size(), evaluate.toString());
        assertTrue(evaluate.err().contains(checkpoint + " is a training checkpoint, not a model file: use the "
                + "model.safetensors of the same run folder"), evaluate.toString());
    }

    /** One epoch of a one-layer network on 40 random images, with a run folder: its checkpoint. */
    private static Path trainOneEpoch(Path runDir) throws IOException {
        SplittableRandom rnd = new SplittableRandom(3);
        float[] images = new float[40 * 784];
        int[] labels = new int[40];
        for (int i = 0; i < images.length; i++) {
            images[i] = (float) rnd.nextDouble();
        }
        for (int i = 0; i < labels.length; i++) {
            labels[i] = rnd.nextInt(10);
        }
        Dataset data = new Dataset(images, labels, Shape.of(1, 28, 28), DatasetChoice.MNIST.classNames());
        try (Backend cpu = TestBackends.cpu(1);
                Model model = Sequential.builder().input(1, 28, 28).add(new Flatten())
                        .add(Dense.builder().units(10).build()).seed(5).build(cpu);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build()) {
            Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(1).batchSize(16).seed(5)
                    .outputDir(runDir).build().fit(data);
        }
        return runDir;
    }
}
