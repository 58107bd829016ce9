package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.train.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runnable example with all-reduce stages, checkpoints and a resume, on the fixture (its
 * training and test files linked into one folder, as an MNIST folder holds them): 6 steps, then
 * a run of 9 with --resume trains only the 3 missing ones.
 */
class TrainMnistOnSparkTest {

    @Test
    void aSecondRunWithResumeTrainsOnlyTheMissingSteps(@TempDir Path dir) throws Exception {
        Path data = fixtureFolder(dir);
        Path checkpoints = dir.resolve("checkpoints");
        String[] common = {"--data", data.toString(), "--partitions", "2", "--backend", "cpu", "--all-reduce", "3",
            "--checkpoints", checkpoints.toString(), "--checkpoint-every", "3", "--master", "local[2]"};
        SharedSpark.stop(); // the example makes and stops its own session
        TrainMnistOnSpark.main(concat(common, "--steps", "6", "--out", dir.resolve("a.safetensors").toString()));
        assertEquals(6, Checkpoint.read(checkpoints.resolve("checkpoint.safetensors")).step());
        TrainMnistOnSpark.main(concat(common, "--steps", "9", "--resume", "--out",
                dir.resolve("b.safetensors").toString()));
        Checkpoint c = Checkpoint.read(checkpoints.resolve("checkpoint.safetensors"));
        assertEquals(9, c.step(), "3 more steps, not 9");
        assertEquals(9, c.optimizerState().step());
        assertTrue(Files.exists(dir.resolve("b.safetensors")));
    }

    @Test
    void trainsAResNetOfTheZooWithModel(@TempDir Path dir) throws Exception {
        Path data = fixtureFolder(dir);
        Path out = dir.resolve("resnet8.safetensors");
        SharedSpark.stop();
        TrainMnistOnSpark.main(new String[] {"--data", data.toString(), "--partitions", "2", "--backend", "cpu",
            "--all-reduce", "2", "--steps", "2", "--model", "resnet8", "--master", "local[2]", "--out", out.toString()});
        dev.receptive.nn.ModelDescription saved = dev.receptive.io.ModelFile.read(out).model();
        try (dev.receptive.backend.Backend cpu = dev.receptive.backend.Backends.create("cpu");
                dev.receptive.nn.Model fresh = dev.receptive.zoo.Zoo.build("resnet8", cpu, 1)) {
            assertEquals(fresh.describe().architecture(), saved.architecture(), "the zoo's resnet8 was trained");
            assertEquals(fresh.stateDict().keySet(), saved.state().keySet());
            // Batch norm's running statistics moved from their start: the batch-norm model trained.
            String mean = saved.state().keySet().stream().filter(k -> k.endsWith("running_mean")).findFirst().orElseThrow();
            assertTrue(java.util.Arrays.stream(toDoubles(saved.state().get(mean).data())).anyMatch(v -> v != 0),
                    mean + " moved");
        }
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static Path fixtureFolder(Path dir) throws java.io.IOException {
        Path data = Files.createDirectories(dir.resolve("data"));
        for (Path f : new Path[] {TinyNet.TRAIN.resolve("train-images-idx3-ubyte.gz"),
                TinyNet.TRAIN.resolve("train-labels-idx1-ubyte.gz"), TinyNet.TEST.resolve("t10k-images-idx3-ubyte.gz"),
                TinyNet.TEST.resolve("t10k-labels-idx1-ubyte.gz")}) {
            Files.createSymbolicLink(data.resolve(f.getFileName()), f.toAbsolutePath());
        }
        return data;
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
