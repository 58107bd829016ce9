package dev.receptive.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.io.internal.AtomicFiles;
import dev.receptive.nn.Model;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.testing.TestBackends;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged checkpoint is refused with the file's name and changes nothing; an interrupted write keeps the old one. */
class CheckpointCorruptTest {
    private final Backend backend = TestBackends.cpu();
    private Model model;
    private Loss loss;
    private Optimizer adam;

    @TempDir
    Path dir;

    @BeforeEach
    void train() throws IOException {
        model = Fixtures.tinyDropoutNet(2).build(backend);
        loss = Loss.softmaxCrossEntropy();
        adam = Optimizer.adam(1e-3).build();
        Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(1).batchSize(32).seed(3).outputDir(dir).build()
                .fit(Fixtures.train(128));
    }

    @AfterEach
    void close() {
        adam.close();
        loss.close();
        model.close();
        backend.close();
    }

    @Test
    void checkpointTruncatedAtEveryKibibyteIsRefusedAndChangesNothing() throws IOException {
        byte[] whole = Files.readAllBytes(dir.resolve(RunFolder.CHECKPOINT));
        assertTrue(whole.length > 4096, "a checkpoint of several KiB: " + whole.length);
        Map<String, HostTensor> before = model.stateDict();
        int stepsBefore = adam.stepCount();
        Path cut = dir.resolve("cut.safetensors");
        for (int length = 0; length < whole.length; length += 1024) {
            Files.write(cut, Arrays.copyOf(whole, length));
            IOException e = assertThrows(IOException.class, () -> resume(cut), "truncated to " + length + " bytes");
            assertTrue(e.getMessage().startsWith(cut.toString() + ": "), e.getMessage());
        }
        before.forEach((name, t) -> assertArrayEquals(ResumeTest.bits(t), ResumeTest.bits(model.stateDict().get(name))));
        assertEquals(stepsBefore, adam.stepCount());
    }

    /** What --resume does: read the checkpoint, then train on from it in its folder. */
    private void resume(Path file) throws IOException {
        Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(2).batchSize(32).seed(3).outputDir(dir)
                .resume(Checkpoint.read(file)).build().fit(Fixtures.train(128));
    }

    /**
     * A crash between writing the temporary file and renaming it leaves the temporary file beside
     * the previous checkpoint, which still loads; so does a writer that dies half-way.
     */
    @Test
    void crashBeforeTheRenameLeavesThePreviousCheckpointLoadable() throws IOException {
        Path file = dir.resolve(RunFolder.CHECKPOINT);
        byte[] previous = Files.readAllBytes(file);
        // The state a crash leaves: the new content, complete or not, under AtomicFiles' temporary name.
        Files.write(dir.resolve("." + RunFolder.CHECKPOINT + ".5eed.tmp"), Arrays.copyOf(previous, previous.length / 2));
        assertEquals(1, Checkpoint.read(file).epoch());

        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(file, out -> {
            out.write(previous, 0, previous.length / 2);
            throw new IllegalStateException("the process dies here");
        }));
        assertArrayEquals(previous, Files.readAllBytes(file));
        resume(file);
        assertEquals(2, Checkpoint.read(file).epoch(), "training went on from the kept checkpoint");
    }
}
