package dev.receptive.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.data.internal.Idx;
import dev.receptive.nn.HostTensor;
import dev.receptive.train.Checkpoint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills training with SIGKILL at random moments, many of them while a checkpoint is being
 * written, and resumes each time from what is on disk: the last checkpoint must always load, and
 * the run that finally completes must end with the same model file, byte for byte, as a run that
 * was never interrupted. The training is tiny (64 images, 6 epochs, 64 validation images) so
 * that the whole test takes about a minute.
 */
class CrashConsistencyTest {
    private static final int MIN_KILLS = 20;
    private static final int EPOCHS = 6;
    private static final List<String> JVM = List.of("-Xmx1g", "-XX:+UseSerialGC");

    @TempDir
    Path dir;

    /** The fixtures' training set and the first 64 test images, as a data folder. */
    private Path data() throws IOException {
        Path fashion = Files.createDirectories(dir.resolve("data").resolve("fashion-mnist"));
        try (Stream<Path> files = Files.list(Path.of("test-data", "fashion-mnist-2k-train"))) {
            for (Path f : files.toList()) {
                Files.copy(f, fashion.resolve(f.getFileName()));
            }
        }
        Path test = Path.of("test-data", "fashion-mnist-1k");
        Idx images = Idx.read(test.resolve("t10k-images-idx3-ubyte.gz"));
        Idx labels = Idx.read(test.resolve("t10k-labels-idx1-ubyte.gz"));
        Files.write(fashion.resolve("t10k-images-idx3-ubyte"), idx(new int[] {64, 28, 28},
                Arrays.copyOf(images.data(), 64 * 784)));
        Files.write(fashion.resolve("t10k-labels-idx1-ubyte"), idx(new int[] {64}, Arrays.copyOf(labels.data(), 64)));
        return dir.resolve("data");
    }

    private static byte[] idx(int[] dims, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {0, 0, 8, (byte) dims.length});
        for (int d : dims) {
            out.writeBytes(new byte[] {(byte) (d >>> 24), (byte) (d >>> 16), (byte) (d >>> 8), (byte) d});
        }
        out.writeBytes(data);
        return out.toByteArray();
    }

    private String[] train(Path data, Path out, boolean resume) {
        List<String> args = new ArrayList<>(List.of("train", "--dataset", "fashion-mnist", "--data", data.toString(),
                "--limit", "64", "--batch", "32", "--epochs", String.valueOf(EPOCHS), "--backend", "cpu",
                "--out", out.toString()));
        if (resume) {
            args.addAll(List.of("--resume", out.resolve("checkpoint.safetensors").toString()));
        }
        return args.toArray(String[]::new);
    }

    private static List<Path> temps(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(p -> p.getFileName().toString().matches("\\..*\\.tmp")).toList();
        }
    }

    @Test
    void killedTrainingResumesToTheSameModel() throws Exception {
        long start = System.nanoTime();
        Path data = data();
        Path reference = dir.resolve("reference");
        CliRun ref = ChildJvm.run(dir, JVM, Map.of(), 120, train(data, reference, false));
        assertEquals(0, ref.code(), ref.toString());
        byte[] expectedModel = Files.readAllBytes(reference.resolve("model.safetensors"));
        Checkpoint expectedCheckpoint = Checkpoint.read(reference.resolve("checkpoint.safetensors"));
        long referenceBytes = Files.size(reference.resolve("checkpoint.safetensors"));

        Random random = new Random(20261130);
        Path run = dir.resolve("run");
        Path checkpoint = run.resolve("checkpoint.safetensors");
        Path log = dir.resolve("child.log");
        int kills = 0;
        int duringWrites = 0;
        int completed = 0;
        int attempts = 0;
        int lastEpoch = 0;
        while (kills < MIN_KILLS || completed == 0) {
            attempts++;
            assertTrue(attempts < 200, "no progress after " + attempts + " attempts");
            boolean resume = Files.exists(checkpoint);
            Files.deleteIfExists(log);
            Process p = ChildJvm.startLogged(dir, JVM, log, train(data, run, resume));
            boolean killed = false;
            List<Path> before = temps(run);
            if (kills < MIN_KILLS) {
                String checkpointBefore = state(checkpoint);
                long randomMillis = 200 + random.nextInt(4000);
                // Every other kill waits for a write to begin: a new temporary file, or the
                // checkpoint itself changing (which an in-place writer would do). It waits for as
                // long as the run takes, not a random time: on a loaded machine the child JVM may
                // not reach its first checkpoint within the random kills' 4.2 s.
                boolean atWrite = kills % 2 == 1;
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(atWrite ? 120_000 : randomMillis);
                while (p.isAlive() && System.nanoTime() < deadline && !killed) {
                    if (atWrite) {
                        List<Path> now = new ArrayList<>(temps(run));
                        now.removeAll(before);
                        if (!now.isEmpty() || !state(checkpoint).equals(checkpointBefore)) {
                            Thread.sleep(random.nextInt(3));
                            killed = kill(p);
                        }
                    }
                    Thread.sleep(1);
                }
                if (!killed && p.isAlive()) {
                    killed = kill(p);
                }
            }
            if (killed) {
                kills++;
                boolean partial = Files.exists(checkpoint) && Files.size(checkpoint) < referenceBytes * 99 / 100;
                // A temporary file this attempt left (not one an earlier killed writer left).
                List<Path> left = new ArrayList<>(temps(run));
                left.removeAll(before);
                duringWrites += partial || !left.isEmpty() ? 1 : 0;
                if (Files.exists(checkpoint)) {
                    Checkpoint c = Checkpoint.read(checkpoint); // the last checkpoint always loads
                    assertTrue(c.epoch() >= lastEpoch, "checkpoint went back from epoch " + lastEpoch + " to " + c.epoch());
                    lastEpoch = c.epoch();
                }
                continue;
            }
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "a training run hung");
            assertEquals(0, p.exitValue(), "attempt " + attempts + " failed: " + Files.readString(log));
            completed++;
            assertArrayEquals(expectedModel, Files.readAllBytes(run.resolve("model.safetensors")),
                    "the resumed run's model differs from the uninterrupted run's");
            Checkpoint c = Checkpoint.read(checkpoint);
            assertEquals(EPOCHS, c.epoch());
            assertEquals(expectedCheckpoint.step(), c.step());
            for (Map.Entry<String, HostTensor> e : expectedCheckpoint.model().state().entrySet()) {
                assertArrayEquals(e.getValue().data(), c.model().state().get(e.getKey()).data(), e.getKey());
            }
            if (kills < MIN_KILLS) {
                deleteRecursively(run); // a new cycle, killed again from the start
                lastEpoch = 0;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("crash consistency: %d kills (%d during a file write), %d runs to the end, %d attempts, %.0f s%n",
                kills, duringWrites, completed, attempts, seconds);
        assertTrue(duringWrites >= MIN_KILLS / 4, duringWrites + " of " + kills + " kills hit a file being written");
    }

    /** Size and modification time of a file, or "absent". */
    private static String state(Path file) throws IOException {
        try {
            return Files.size(file) + "@" + Files.getLastModifiedTime(file).toMillis();
        } catch (java.nio.file.NoSuchFileException e) {
            return "absent";
        }
    }

    private static boolean kill(Process p) throws InterruptedException {
        p.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
        p.waitFor();
        return true;
    }

    private static void deleteRecursively(Path folder) throws IOException {
        try (Stream<Path> s = Files.walk(folder)) {
            for (Path p : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.delete(p);
            }
        }
    }
}
