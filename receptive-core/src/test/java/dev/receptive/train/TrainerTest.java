package dev.receptive.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.nn.Model;
import dev.receptive.data.Dataset;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.testing.Close;
import dev.receptive.testing.TestBackends;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End to end on the committed Fashion-MNIST fixtures: training works, and the run folder says so. */
class TrainerTest {
    private final Backend backend = TestBackends.cpu();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    /**
     * Four epochs of a small CNN on the 2k training fixture reach at least 70% on the 1k test
     * fixture. Chance is 10%, an untrained net scores about that, and a gradient of the wrong
     * sign or a broken update stays far below 70% (this net reaches about 78%).
     */
    @Test
    void smallNetLearnsFashionMnistAndWritesTheRunFolder() throws IOException {
        List<String> heard = new ArrayList<>();
        TrainingListener listener = new TrainingListener() {
            @Override
            public void epochStarted(int epoch, int epochs, long images) {
                heard.add("start " + epoch + "/" + epochs + " " + images);
            }

            @Override
            public void progress(long images, double meanLoss, double accuracy) {
                heard.add("progress " + images);
            }

            @Override
            public void epochEnded(Metrics metrics, List<Metrics> history, List<StepMetrics> steps,
                    Evaluation validation, Path runFolder) {
                heard.add("end " + metrics.epoch() + " " + history.size() + " " + steps.size() + " " + (validation != null)
                        + " " + runFolder.equals(dir) + " " + Files.exists(runFolder.resolve(RunFolder.CHECKPOINT)));
            }
        };
        try (Model model = Fixtures.smallNet(3).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(2e-3).build()) {
            Evaluation untrained = Evaluation.of(model, loss, Fixtures.test(), 250);
            Trainer trainer = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(4).batchSize(32).seed(7)
                    .validation(Fixtures.test()).outputDir(dir)
                    .listener(listener).build();
            List<Metrics> history = trainer.fit(Fixtures.train());

            assertTrue(untrained.accuracy() < 0.3, "untrained accuracy " + untrained.accuracy());
            Metrics last = history.get(3);
            assertTrue(last.valAccuracy() >= 0.70, "test accuracy after 4 epochs: " + last.valAccuracy());
            assertTrue(last.valLoss() < untrained.loss(), "loss " + untrained.loss() + " -> " + last.valLoss());
            assertTrue(history.get(3).trainLoss() < history.get(0).trainLoss(), "train loss falls: " + history);
            assertEquals((2000 / 32) * 32 / history.get(0).seconds(), history.get(0).imagesPerSecond(), 1e-6
                    * history.get(0).imagesPerSecond(), "images/s counts the full batches of an epoch");

            // The trainer's validation is Evaluation.of on the trained model, whatever the batch size.
            Evaluation again = Evaluation.of(model, loss, Fixtures.test(), 64);
            assertEquals(1000, again.count());
            int diagonal = 0;
            for (int c = 0; c < 10; c++) {
                diagonal += again.confusion()[c][c];
            }
            assertEquals(Math.round(last.valAccuracy() * 1000), diagonal);
            // Float sums over batches of 250 and 64 differ in rounding only.
            Close.assertClose("validation loss", last.valLoss(), (float) again.loss(), 0, 1e-5);
        }

        // metrics.csv: per epoch, a row per window of 20 steps and one at the epoch's last step (62
        // steps: 20, 40, 60, 62), then the epoch's row.
        List<String> csv = Files.readAllLines(dir.resolve(RunFolder.METRICS));
        assertEquals(RunFolder.METRICS_HEADER, csv.get(0));
        assertEquals(1 + 4 * (4 + 1), csv.size(), "header and 4 epochs of 4 step rows and an epoch row");
        assertTrue(csv.get(1).startsWith("step,1,20,"), csv.get(1));
        assertTrue(csv.get(4).startsWith("step,1,62,"), csv.get(4));
        assertTrue(csv.get(5).startsWith("epoch,1,62,"), csv.get(5));
        assertTrue(csv.get(20).startsWith("epoch,4,248,"), csv.get(20));
        assertEquals(11, csv.get(20).split(",", -1).length, csv.get(20));
        // The model file holds the best epoch by validation accuracy.
        try (Model best = dev.receptive.io.ModelFile.load(dir.resolve(RunFolder.MODEL), backend);
                Loss ce = Loss.softmaxCrossEntropy()) {
            Evaluation check = Evaluation.of(best, ce, Fixtures.test(), 250);
            double top = Checkpoint.read(dir.resolve(RunFolder.CHECKPOINT)).history().stream()
                    .mapToDouble(Metrics::valAccuracy).max().orElseThrow();
            assertEquals(top, check.accuracy(), 1e-9, "the saved model is the best epoch's");
        }
        List<String> confusion = Files.readAllLines(dir.resolve(RunFolder.CONFUSION));
        assertEquals(11, confusion.size());
        assertEquals(1000, confusion.stream().skip(1)
                .mapToInt(l -> Arrays.stream(l.split(",")).skip(1).mapToInt(Integer::parseInt).sum()).sum());
        assertEquals(4, Checkpoint.read(dir.resolve(RunFolder.CHECKPOINT)).epoch());

        // Each epoch: a start, progress every 20 steps and at its last, an end after the files are written.
        List<String> epoch4 = heard.subList(heard.indexOf("start 4/4 1984"), heard.size());
        assertEquals(List.of("start 4/4 1984", "progress 640", "progress 1280", "progress 1920", "progress 1984",
                "end 4 4 16 true true true"),
                epoch4);
    }

    @Test
    void scheduleSetsTheLearningRateOfEachEpoch() throws IOException {
        try (Model model = Fixtures.smallNet(3).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(4e-3).build()) {
            List<Metrics> history = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(3).batchSize(64)
                    .schedule(LrSchedule.step(1, 0.5)).build().fit(Fixtures.train(128));
            assertEquals(List.of(4e-3, 2e-3, 1e-3), history.stream().map(Metrics::lr).toList());
            Close.assertClose("lr after the last epoch", 1e-3, adam.learningRate(), 0, 1e-7);
            assertEquals(3 * 2, adam.stepCount());
            assertTrue(history.stream().noneMatch(Metrics::hasValidation));
        }
    }

    @Test
    void nanLossStopsTrainingWithTheStep() {
        Dataset clean = Fixtures.train(64);
        float[] images = new float[64 * 784];
        int[] labels = new int[64];
        for (int i = 0; i < 64; i++) {
            clean.copyImage(i, images, i * 784);
            labels[i] = clean.label(i);
        }
        images[40 * 784 + 100] = Float.NaN; // one pixel of one image: every step of the epoch sees it
        Dataset poisoned = new Dataset(images, labels, clean.itemShape(), clean.classNames());
        try (Model model = Fixtures.smallNet(3).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build()) {
            Trainer trainer = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(1).batchSize(64).build();
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> trainer.fit(poisoned));
            assertTrue(e.getMessage().startsWith("training diverged at epoch 1, step 0"), e.getMessage());
            assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        }
    }

    @Test
    void modelThatDoesNotFitTheDataIsRejectedBeforeTraining() {
        try (Model model = Sequential.builder().input(1, 32, 32).add(new dev.receptive.nn.Flatten())
                .add(dev.receptive.nn.Dense.builder().units(10).build()).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build()) {
            Trainer trainer = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(1).build();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> trainer.fit(Fixtures.train()));
            assertEquals("Trainer: the model takes input (1, 32, 32) but the images are (1, 28, 28)", e.getMessage());
            assertEquals(0, adam.stepCount());
        }
    }

    /**
     * The finding: a run whose outputs grew until the validation loss overflowed (its
     * step losses still finite) ended in the chart library's complaint about an infinite point.
     * Validation images near 1e37 overflow the outputs of any model trained here.
     */
    @Test
    void aValidationLossThatIsNotFiniteIsADivergence() {
        Dataset train = Fixtures.train(64);
        float[] images = new float[64 * 784];
        int[] labels = new int[64];
        for (int i = 0; i < 64; i++) {
            train.copyImage(i, images, i * 784);
            labels[i] = train.label(i);
        }
        for (int i = 0; i < images.length; i++) {
            images[i] = images[i] * 1e37f + 1e37f;
        }
        Dataset huge = new Dataset(images, labels, train.itemShape(), train.classNames());
        try (Model model = Fixtures.smallNet(1).build(backend); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build()) {
            Trainer t = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(1).batchSize(32).seed(1)
                    .validation(huge).build();
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> t.fit(train));
            assertTrue(e.getMessage().startsWith("training diverged at epoch 1, step 2 (lr 0.001): the validation loss"
                    + " is "), e.getMessage());
        }
    }
}
