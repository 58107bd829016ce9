package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.receptive.data.Dataset;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.train.Checkpoint;
import dev.receptive.train.RunFolder;
import dev.receptive.train.Trainer;
import dev.receptive.zoo.Zoo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run on the GPU stopped after epoch 1 and resumed from its checkpoint gives bit for bit the
 * weights of two epochs straight. Bit for bit needs the same arithmetic in both runs: one backend
 * (its cuDNN algorithms, chosen once per shape, are reused), deterministic algorithms only, and
 * Receptive's own kernels, which are deterministic (max-pool backward without atomics included).
 */
class CudaResumeTest {
    private static final int BATCH = 16;

    @TempDir
    Path dir;

    private static Map<String, HostTensor> run(CudaBackend gpu, Dataset data, int epochs, Path out, Checkpoint from)
            throws IOException {
        try (Model model = Zoo.seedNet().seed(5).build(gpu); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build()) {
            Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(epochs).batchSize(BATCH).seed(9)
                    .outputDir(out).resume(from).build().fit(data);
            return model.stateDict();
        }
    }

    @Test
    void resumingAfterEpochOneGivesTheWeightsOfTwoEpochsStraight() throws IOException {
        Dataset data = ModelLockStep.data(BATCH * 5, 21);
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip(CudaOptions.defaults().withDeterministic(true))) {
            Map<String, HostTensor> straight = run(gpu, data, 2, dir.resolve("straight"), null);
            run(gpu, data, 1, dir.resolve("stopped"), null);
            Checkpoint after1 = Checkpoint.read(dir.resolve("stopped").resolve(RunFolder.CHECKPOINT));
            assertEquals(5, after1.step());
            Map<String, HostTensor> resumed = run(gpu, data, 2, dir.resolve("stopped"), after1);
            assertEquals(straight.keySet(), resumed.keySet());
            straight.forEach((name, t) -> assertArrayEquals(bits(t), bits(resumed.get(name)), name));
        }
    }

    private static int[] bits(HostTensor t) {
        int[] b = new int[t.data().length];
        for (int i = 0; i < b.length; i++) {
            b[i] = Float.floatToRawIntBits(t.data()[i]);
        }
        return b;
    }
}
