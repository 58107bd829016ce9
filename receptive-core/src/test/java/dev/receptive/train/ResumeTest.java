package dev.receptive.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.nn.Model;
import dev.receptive.data.Augmentation;
import dev.receptive.data.Dataset;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.testing.TestBackends;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints: a round trip keeps every field, and stopping after epoch 1 and resuming gives
 * bit for bit the weights of two epochs straight. Weights are compared by their bits, not with a
 * tolerance: the claim is exact equality on the CPU, whose ops do not depend on the thread count.
 */
class ResumeTest {
    private static final int BATCH = 32;
    private final Backend backend = TestBackends.cpu();
    private final Dataset train = Fixtures.train(256);

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    /** Trains the tiny dropout net to {@code epochs}, from scratch or from a checkpoint; returns its weights. */
    private Map<String, HostTensor> run(int epochs, Path out, Checkpoint from) throws IOException {
        try (Model model = Fixtures.tinyDropoutNet(11).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(5e-3).build()) {
            Trainer trainer = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(epochs)
                    .batchSize(BATCH).seed(5).outputDir(out).resume(from).build();
            trainer.fit(train);
            return model.stateDict();
        }
    }

    @Test
    void resumingAfterEpochOneGivesTheWeightsOfTwoEpochsStraight() throws IOException {
        Map<String, HostTensor> straight = run(2, dir.resolve("straight"), null);
        run(1, dir.resolve("stopped"), null);
        Checkpoint after1 = Checkpoint.read(dir.resolve("stopped").resolve(RunFolder.CHECKPOINT));
        assertEquals(1, after1.epoch());
        assertEquals(256 / BATCH, after1.step());
        Map<String, HostTensor> resumed = run(2, dir.resolve("stopped"), after1);

        assertEquals(straight.keySet(), resumed.keySet());
        straight.forEach((name, t) -> assertArrayEquals(bits(t), bits(resumed.get(name)), name));
        Checkpoint end = Checkpoint.read(dir.resolve("stopped").resolve(RunFolder.CHECKPOINT));
        assertEquals(2, end.epoch());
        assertEquals(2, end.history().size());
        assertEquals(after1.history().get(0), end.history().get(0), "the resumed run keeps epoch 1's metrics");
    }

    /** The test above can fail: the same resume with the step counter lost gives other dropout masks. */
    @Test
    void resumingWithTheStepCounterLostGivesOtherWeights() throws IOException {
        Map<String, HostTensor> straight = run(2, dir.resolve("straight"), null);
        run(1, dir.resolve("stopped"), null);
        Checkpoint c = Checkpoint.read(dir.resolve("stopped").resolve(RunFolder.CHECKPOINT));
        Checkpoint stepLost = new Checkpoint(c.model(), c.optimizer(), c.optimizerState(), c.epoch(),
                0, c.seed(), c.batchSize(), c.trainSize(), c.history(), c.steps(), c.settings());
        Map<String, HostTensor> resumed = run(2, dir.resolve("lost"), stepLost);
        assertFalse(java.util.Arrays.equals(bits(straight.get("5.weight")), bits(resumed.get("5.weight"))));
    }

    @Test
    void checkpointRoundTripKeepsEveryField() throws IOException {
        run(1, dir, null);
        Path file = dir.resolve(RunFolder.CHECKPOINT);
        Checkpoint c = Checkpoint.read(file);
        Path copy = dir.resolve("copy.safetensors");
        c.write(copy);
        Checkpoint back = Checkpoint.read(copy);

        assertEquals(c.model().architecture(), back.model().architecture());
        assertEquals("Adam", back.optimizer());
        assertEquals(List.of(1, 8, 5L, BATCH, 256), List.of(back.epoch(), back.step(), back.seed(), back.batchSize(),
                back.trainSize()));
        assertEquals(c.history(), back.history());
        assertEquals(List.of("0.weight", "0.bias", "5.weight", "5.bias"), List.copyOf(back.model().state().keySet()));
        c.model().state().forEach((name, t) -> assertArrayEquals(bits(t), bits(back.model().state().get(name)), name));
        assertEquals(8, back.optimizerState().step());
        assertEquals(List.of("m", "v"), List.copyOf(back.optimizerState().slots().get("5.weight").keySet()));
        c.optimizerState().slots().forEach((p, slots) -> slots.forEach((slot, t) ->
                assertArrayEquals(bits(t), bits(back.optimizerState().slots().get(p).get(slot)), p + "/" + slot)));
    }

    @Test
    void checkpointOfAnotherRunIsRefusedAndChangesNothing() throws IOException {
        run(1, dir, null);
        Checkpoint c = Checkpoint.read(dir.resolve(RunFolder.CHECKPOINT));
        try (Model model = Fixtures.tinyDropoutNet(11).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(5e-3).build()) {
            Map<String, HostTensor> before = model.stateDict();
            Trainer otherSeed = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(2).batchSize(BATCH)
                    .seed(6).resume(c).build();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> otherSeed.fit(train));
            assertEquals("Trainer: cannot resume from the checkpoint: it was trained with seed 5, this run has seed 6",
                    e.getMessage());
            Trainer otherData = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(2).batchSize(BATCH)
                    .seed(5).resume(c).build();
            e = assertThrows(IllegalArgumentException.class, () -> otherData.fit(Fixtures.train(128)));
            assertTrue(e.getMessage().endsWith("it was trained on 256 images, this run has 128"), e.getMessage());
            before.forEach((name, t) -> assertArrayEquals(bits(t), bits(model.stateDict().get(name)), name));
            assertEquals(0, adam.stepCount());
        }
    }

    @Test
    void theCheckpointRecordsEverySettingAndAResumeWithOthersIsRefusedUnlessAllowed() throws IOException {
        run(1, dir, null);
        Checkpoint c = Checkpoint.read(dir.resolve(RunFolder.CHECKPOINT));
        assertEquals(Map.of("optimizer", "Adam(betas=(0.9, 0.999), eps=1.0E-8, weight_decay=0.0)", "lr", "0.005",
                "schedule", "constant", "loss", "softmaxCrossEntropy", "batch_size", "32", "accumulation_steps", "1",
                "seed", "5", "augmentation", "none"), c.settings());
        try (Model model = Fixtures.tinyDropoutNet(11).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-2).build()) {
            Trainer other = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(2).batchSize(BATCH)
                    .seed(5).schedule(LrSchedule.step(1, 0.5)).resume(c).build();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> other.fit(train));
            assertEquals("Trainer: cannot resume from the checkpoint: its settings differ: lr 0.005 -> 0.01; schedule"
                    + " constant -> step(1, 0.5) (allow changed settings to resume anyway)", e.getMessage());
            assertEquals(0, adam.stepCount());
            Trainer allowed = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(2).batchSize(BATCH)
                    .seed(5).schedule(LrSchedule.step(1, 0.5)).resume(c).allowChangedSettings().build();
            List<Metrics> history = allowed.fit(train);
            assertEquals(2, history.size());
            assertEquals(0.005, history.get(1).lr(), 1e-9, "epoch 2 of step(1, 0.5) from the new base rate 0.01");
        }
    }

    @Test
    void accumulatingFourMicroBatchesTrainsAsTheWholeBatch() throws IOException {
        Map<String, HostTensor> whole = runAccumulating(1);
        Map<String, HostTensor> micro = runAccumulating(4);
        // Two epochs of Adam on gradients equal within fp32 rounding (see AccumulationContract):
        // Adam divides by √v, which can amplify a rounding difference in a tiny gradient, so the
        // weights agree to 1e-4 of their scale rather than bit for bit.
        whole.forEach((name, t) -> dev.receptive.testing.Close.assertClose(name, t.data(), micro.get(name).data(),
                1e-4, 1e-3));
    }

    private Map<String, HostTensor> runAccumulating(int steps) throws IOException {
        try (Model model = Fixtures.tinyDropoutNet(11).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(5e-3).build()) {
            Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(2).batchSize(BATCH).accumulationSteps(steps)
                    .seed(5).build().fit(train);
            return model.stateDict();
        }
    }

    @Test
    void anAugmentedRunResumesBitForBit() throws IOException {
        Augmentation aug = Augmentation.compose(Augmentation.randomCrop(2), Augmentation.horizontalFlip());
        Map<String, HostTensor> straight = runAugmented(2, dir.resolve("aug-straight"), null, aug);
        runAugmented(1, dir.resolve("aug-stopped"), null, aug);
        Checkpoint after1 = Checkpoint.read(dir.resolve("aug-stopped").resolve(RunFolder.CHECKPOINT));
        assertEquals("crop(2)+flip", after1.settings().get("augmentation"));
        Map<String, HostTensor> resumed = runAugmented(2, dir.resolve("aug-stopped"), after1, aug);
        straight.forEach((name, t) -> assertArrayEquals(bits(t), bits(resumed.get(name)), name));
        Map<String, HostTensor> plain = run(2, dir.resolve("plain"), null);
        assertFalse(java.util.Arrays.equals(bits(straight.get("5.weight")), bits(plain.get("5.weight"))),
                "augmentation changed the training");
    }

    @Test
    void earlyStoppingEndsARunThatStopsImprovingAndKeepsTheBestModel() throws IOException {
        try (Model model = Fixtures.tinyDropoutNet(11).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(5e-2).build()) {
            // A learning rate too high for the tiny net: validation accuracy stalls within a few epochs.
            Trainer trainer = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(30).batchSize(BATCH)
                    .seed(5).validation(Fixtures.train(128)).earlyStopping(2).outputDir(dir.resolve("early")).build();
            List<Metrics> history = trainer.fit(train);
            assertTrue(trainer.stopped() && history.size() < 30, "stopped after " + history.size() + " epochs");
            double best = history.subList(0, history.size() - 2).stream().mapToDouble(Metrics::valAccuracy).max()
                    .orElseThrow();
            assertTrue(history.subList(history.size() - 2, history.size()).stream().allMatch(m -> m.valAccuracy() <= best));
            assertEquals(best, history.get(trainer.bestEpoch() - 1).valAccuracy());
            assertTrue(history.stream().allMatch(m -> m.dataSeconds() >= 0 && m.dataSeconds() < m.seconds()),
                    "data time is part of the epoch's time");
        }
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder().model(null).build());
    }

    private Map<String, HostTensor> runAugmented(int epochs, Path out, Checkpoint from, Augmentation aug)
            throws IOException {
        try (Model model = Fixtures.tinyDropoutNet(11).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(5e-3).build()) {
            Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(epochs).batchSize(BATCH).seed(5)
                    .augmentation(aug).outputDir(out).resume(from).build().fit(train);
            return model.stateDict();
        }
    }

    static int[] bits(HostTensor t) {
        int[] b = new int[t.data().length];
        for (int i = 0; i < b.length; i++) {
            b[i] = Float.floatToRawIntBits(t.data()[i]);
        }
        return b;
    }
}
