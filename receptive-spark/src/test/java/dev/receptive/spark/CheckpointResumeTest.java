package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.Split;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.train.Checkpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints and resume: an application stopped after 13 steps of an epoch (its last checkpoint
 * at step 8) and started again with resume ends the epoch in the same bits as an undisturbed run;
 * checkpoints fall every N steps and at the epoch's end; a checkpoint of another run is refused.
 */
class CheckpointResumeTest {
    private static final long SEED = 7;
    private static final int BATCH = 64;

    @TempDir
    Path dir;

    private static SparkTrainer.Builder builder(Model model, Optimizer opt, int batch) {
        return SparkTrainer.builder().spark(SharedSpark.session()).model(model).optimizer(opt)
                .data(TrainingData.fashionMnist(TinyNet.TRAIN, Split.TRAIN)).batchSize(batch).partitions(2)
                .seed(SEED).backend("cpu").allReduce(5);
    }

    @Test
    void aStoppedRunResumedFromItsCheckpointEndsInTheSameBits() throws IOException {
        Map<String, HostTensor> undisturbed;
        int steps;
        try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, SEED);
                Optimizer adam = Optimizer.adam(1e-3).build(); SparkTrainer t = builder(model, adam, BATCH).build()) {
            steps = t.stepsPerEpoch();
            t.fit(1);
            undisturbed = model.stateDict();
        }
        Path folder = dir.resolve("run");
        try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, SEED);
                Optimizer adam = Optimizer.adam(1e-3).build();
                SparkTrainer t = builder(model, adam, BATCH).checkpoints(folder, 8).build()) {
            t.train(13); // then the application stops
            Checkpoint c = Checkpoint.read(t.checkpointFile());
            assertEquals(8, c.step(), "the last checkpoint is that of step 8");
            assertEquals(8, c.optimizerState().step());
        }
        try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, SEED);
                Optimizer adam = Optimizer.adam(1e-3).build();
                SparkTrainer t = builder(model, adam, BATCH).checkpoints(folder, 8).resume(true).build()) {
            model.parameters().forEach(p -> cpu.fill(p.value(), 0.5f)); // the checkpoint must replace these
            t.stepsPerEpoch();
            assertEquals(8, t.stepCount(), "resumed after step 8");
            t.train(steps - t.stepCount());
            Map<String, HostTensor> resumed = model.stateDict();
            for (String name : undisturbed.keySet()) {
                assertArrayEquals(undisturbed.get(name).data(), resumed.get(name).data(), name);
            }
            assertEquals(steps, Checkpoint.read(t.checkpointFile()).step(), "a checkpoint at the epoch's end");
            assertEquals(1, Checkpoint.read(t.checkpointFile()).epoch());
        }
        try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, SEED);
                Optimizer adam = Optimizer.adam(1e-3).build();
                SparkTrainer t = builder(model, adam, 32).checkpoints(folder, 8).resume(true).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, t::stepsPerEpoch);
            assertTrue(e.getMessage().contains("batch size 64 vs 32"), e.getMessage());
        }
    }
}
