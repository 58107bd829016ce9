package dev.receptive.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.data.Dataset;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.testing.TestBackends;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The findings: two runs given one folder both ended well while one's results vanished;
 * a resume into a new folder, or after a failed model write, whose epochs were worse than the
 * best left no model file (or lost the best epoch's weights for good).
 */
class RunFolderTest {
    private static final int BATCH = 32;
    private final Backend backend = TestBackends.cpu();
    private final Dataset train = Fixtures.train(128);
    private final Dataset validation = Fixtures.train(64);

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    private Trainer.Builder trainer(Model model, Loss loss, Optimizer adam, int epochs, Path out) {
        return Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(epochs).batchSize(BATCH).seed(5)
                .validation(validation).outputDir(out);
    }

    @Test
    void aSecondRunOfThisProcessIsRefusedWhileTheFirstHoldsTheFolder() throws Exception {
        Path out = dir.resolve("shared");
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch tried = new CountDownLatch(1);
        Throwable[] first = new Throwable[1];
        Thread a = new Thread(() -> {
            try (Model model = Fixtures.tinyDropoutNet(1).build(backend); Loss loss = Loss.softmaxCrossEntropy();
                    Optimizer adam = Optimizer.adam(1e-3).build()) {
                trainer(model, loss, adam, 1, out).listener(new TrainingListener() {
                    @Override
                    public void epochStarted(int epoch, int epochs, long images) {
                        started.countDown();
                        try {
                            tried.await(30, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }).build().fit(train);
            } catch (Throwable t) {
                first[0] = t;
            }
        });
        a.start();
        assertTrue(started.await(30, TimeUnit.SECONDS));
        try (Model model = Fixtures.tinyDropoutNet(2).build(backend); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build()) {
            IOException e = assertThrows(IOException.class, () -> trainer(model, loss, adam, 1, out).build().fit(train));
            assertEquals(out + ": the run folder is in use by another training run of this process ("
                    + ProcessHandle.current().pid() + "); give this run another folder, or wait until that one ends",
                    e.getMessage());
            assertTrue(RunFolder.holder(out).startsWith("this process"));
        } finally {
            tried.countDown();
            a.join();
        }
        assertNull(first[0]);
        assertNull(RunFolder.holder(out), "released when the run ended");
        // Released: the folder can be taken again (by a resume).
        try (RunFolder.Lock lock = new RunFolder(out).lock()) {
            assertEquals(ProcessHandle.current().pid() + "\n", Files.readString(out.resolve(RunFolder.LOCK)));
        }
        assertEquals("", Files.readString(out.resolve(RunFolder.LOCK)));
    }

    @Test
    void anotherProcessIsNamedByItsIdAndItsLockIsTakenOverOnceItDies() throws Exception {
        Path out = dir.resolve("other");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), LockHolder.class.getName(), out.toString());
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked", lines.readLine());
            IOException e = assertThrows(IOException.class, () -> new RunFolder(out).lock());
            assertEquals(out + ": the run folder is in use by process " + child.pid() + "; give this run another"
                    + " folder, or wait until that one ends", e.getMessage());
            assertEquals("process " + child.pid(), RunFolder.holder(out));
        } finally {
            child.destroyForcibly(); // SIGKILL: the child cannot empty the lock file
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        }
        assertEquals(child.pid() + "\n", Files.readString(out.resolve(RunFolder.LOCK)), "a stale lock file");
        assertNull(RunFolder.holder(out));
        try (RunFolder.Lock lock = new RunFolder(out).lock()) {
            assertEquals(ProcessHandle.current().pid() + "\n", Files.readString(out.resolve(RunFolder.LOCK)));
        }
    }

    /** A checkpoint after epoch 1 whose history says that epoch was perfect, so no later epoch can beat it. */
    private static Checkpoint perfectEpochOne(Checkpoint c) {
        Metrics m = c.history().get(0);
        Metrics perfect = new Metrics(1, m.trainLoss(), m.trainAccuracy(), 0.0, 1.0, m.lr(), m.seconds(),
                m.imagesPerSecond(), m.dataSeconds());
        return new Checkpoint(c.model(), c.optimizer(), c.optimizerState(), 1, c.step(), c.seed(), c.batchSize(),
                c.trainSize(), List.of(perfect), c.steps(), c.settings(), c.best());
    }

    private void resume(Checkpoint from, int epochs, Path out) throws IOException {
        try (Model model = Fixtures.tinyDropoutNet(1).build(backend); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build()) {
            Trainer t = trainer(model, loss, adam, epochs, out).resume(from).build();
            t.fit(train);
            assertEquals(1, t.bestEpoch());
        }
    }

    @Test
    void aResumeWhoseEpochsAreWorseWritesTheBestEpochsModelIntoANewFolder() throws IOException {
        Path first = dir.resolve("first");
        try (Model model = Fixtures.tinyDropoutNet(1).build(backend); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build()) {
            trainer(model, loss, adam, 1, first).build().fit(train);
        }
        Checkpoint epoch1 = perfectEpochOne(Checkpoint.read(first.resolve(RunFolder.CHECKPOINT)));
        assertEquals(1, epoch1.best().epoch());
        Map<String, HostTensor> bestWeights = epoch1.model().state();

        Path second = dir.resolve("second");
        resume(epoch1, 2, second);
        assertSameWeights(bestWeights, ModelFile.read(second.resolve(RunFolder.MODEL)).model().state());
        Checkpoint epoch2 = Checkpoint.read(second.resolve(RunFolder.CHECKPOINT));
        assertEquals(2, epoch2.epoch());
        assertEquals(1, epoch2.best().epoch(), "the checkpoint carries the best epoch's weights");
        assertSameWeights(bestWeights, epoch2.best().model().state());
        assertFalse(java.util.Arrays.equals(bestWeights.get("5.weight").data(), epoch2.model().state().get("5.weight").data()));

        // Nothing left to train: the new folder still gets the best epoch's model file.
        Path third = dir.resolve("third");
        resume(epoch2, 2, third);
        assertSameWeights(bestWeights, ModelFile.read(third.resolve(RunFolder.MODEL)).model().state());
    }

    @Test
    void aModelWriteThatFailedAfterTheCheckpointIsRepairedByTheResume() throws IOException {
        Path run = dir.resolve("run");
        // A folder where the model file should be: its write fails after the checkpoint's succeeded.
        Files.createDirectories(run.resolve(RunFolder.MODEL).resolve("blocker"));
        try (Model model = Fixtures.tinyDropoutNet(1).build(backend); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build()) {
            assertThrows(IOException.class, () -> trainer(model, loss, adam, 1, run).build().fit(train));
        }
        Files.delete(run.resolve(RunFolder.MODEL).resolve("blocker"));
        Files.delete(run.resolve(RunFolder.MODEL));
        Checkpoint epoch1 = perfectEpochOne(Checkpoint.read(run.resolve(RunFolder.CHECKPOINT)));
        epoch1.write(run.resolve(RunFolder.CHECKPOINT));

        resume(Checkpoint.read(run.resolve(RunFolder.CHECKPOINT)), 2, run);
        assertSameWeights(epoch1.model().state(), ModelFile.read(run.resolve(RunFolder.MODEL)).model().state());
        // And a later resume still finds them, though epoch 2's checkpoint replaced epoch 1's.
        Files.delete(run.resolve(RunFolder.MODEL));
        resume(Checkpoint.read(run.resolve(RunFolder.CHECKPOINT)), 2, run);
        assertSameWeights(epoch1.model().state(), ModelFile.read(run.resolve(RunFolder.MODEL)).model().state());
    }

    private static void assertSameWeights(Map<String, HostTensor> expected, Map<String, HostTensor> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((name, t) -> assertArrayEquals(t.data(), actual.get(name).data(), name));
    }
}
