package dev.receptive.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Normalization;
import dev.receptive.data.Split;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.Sequential;
import dev.receptive.testing.TestBackends;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The command line end to end: help, exit codes with one line on stderr, and a quick training
 * run of the seed network on the Fashion-MNIST fixtures whose model then evaluates and predicts.
 */
class CliTest {
    private static final Pattern LAST_LINE = Pattern.compile("test_accuracy=(0\\.\\d{4}|1\\.0000) epoch_seconds=\\d+\\.\\d{2}");

    @TempDir
    static Path dir;
    private static Path data;
    private static Path run;
    private static CliRun trained;

    /** A data folder laid out like the real one, holding the fixtures; then one quick training run. */
    @BeforeAll
    static void trainOnce() throws IOException {
        data = FixtureData.folder(dir);
        run = dir.resolve("run");
        trained = CliRun.of("train", "--limit", "500", "--epochs", "1", "--dataset", "fashion-mnist", "--data",
                data.toString(), "--out", run.toString(), "--backend", "cpu");
    }

    @ParameterizedTest
    @ValueSource(strings = {"train", "evaluate", "predict", "info", "bench", "doctor"})
    void helpWorksForEveryCommand(String command) {
        CliRun r = CliRun.of(command, "--help");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().startsWith("Usage: receptive " + command), r.toString());
    }

    @Test
    void quickTrainingRunEndsWithTheMachineReadableLine() throws IOException {
        assertEquals(0, trained.code(), trained.toString());
        Matcher m = LAST_LINE.matcher(trained.lastOutLine());
        assertTrue(m.matches(), trained.toString());
        // 448 images of the seed network already beat chance (10%) by far.
        assertTrue(Double.parseDouble(m.group(1)) > 0.3, trained.lastOutLine());
        for (String file : new String[] {"model.safetensors", "checkpoint.safetensors", "metrics.csv", "curves.png",
            "confusion.csv"}) {
            assertTrue(Files.isRegularFile(run.resolve(file)), file);
        }
        assertTrue(trained.err().contains("epoch 1/1: 448/448 images"), trained.toString());
        // Not a terminal: plain progress lines, no carriage returns or escape codes.
        assertFalse(trained.err().contains("\r") || trained.err().contains("\u001b"), trained.toString());
        assertTrue(trained.out().startsWith("epoch 1/1: train loss "), trained.toString());
        assertEquals(1280, ImageIO.read(run.resolve("curves.png").toFile()).getWidth(), "loss and accuracy side by side");
    }

    @Test
    void resumeGoesOnWithTheCheckpointsSeedAndBatch() throws IOException {
        Path resumed = dir.resolve("resumed");
        CliRun r = CliRun.of("train", "--resume", run.resolve("checkpoint.safetensors").toString(), "--epochs", "2",
                "--limit", "500", "--dataset", "fashion-mnist", "--data", data.toString(), "--out", resumed.toString(),
                "--backend", "cpu");
        assertEquals(0, r.code(), r.toString());
        assertTrue(LAST_LINE.matcher(r.lastOutLine()).matches(), r.toString());
        assertTrue(r.out().startsWith("epoch 2/2: "), "only epoch 2 is trained: " + r);
        List<String> epochs = Files.readAllLines(resumed.resolve("metrics.csv")).stream()
                .filter(l -> l.startsWith("epoch,")).toList();
        assertEquals(2, epochs.size(), "epoch 1 from the checkpoint, epoch 2");
        assertEquals(Files.readAllLines(run.resolve("metrics.csv")).stream().filter(l -> l.startsWith("epoch,"))
                .findFirst().orElseThrow(), epochs.get(0));
    }

    @Test
    void evaluateReproducesTheTrainingRunsTestAccuracy() {
        CliRun r = CliRun.of("evaluate", run.resolve("model.safetensors").toString(), "--data", data.toString(),
                "--backend", "cpu");
        assertEquals(0, r.code(), r.toString());
        String accuracy = trained.lastOutLine().replaceAll("test_accuracy=(\\S+) .*", "$1");
        assertTrue(r.lastOutLine().startsWith("accuracy=" + accuracy + " loss="), r + "\ntrained: " + accuracy);
        assertTrue(r.out().contains("9 Ankle boot"), r.toString());
    }

    @Test
    void predictClassifiesImagesAndInvertsDarkOnLight() throws IOException {
        Dataset test = FashionMnist.load(Path.of("test-data", "fashion-mnist-1k"), Split.TEST, Normalization.UNIT_RANGE);
        Path light = png(test, 0, false, "light-on-dark.png");
        Path dark = png(test, 0, true, "dark-on-light.png");
        CliRun r = CliRun.of("predict", run.resolve("model.safetensors").toString(), light.toString(), dark.toString(),
                "--backend", "cpu");
        assertEquals(0, r.code(), r.toString());
        String[] first = r.outLines().get(0).split("\t");
        String[] second = r.outLines().get(1).split("\t");
        assertEquals(light.toString(), first[0]);
        assertEquals(4, first.length, "not inverted: " + r);
        assertEquals("(inverted)", second[4], r.toString());
        // Inverting the inverted image gives back the first: same class, same probabilities.
        assertEquals(Arrays.asList(first).subList(1, 4), Arrays.asList(second).subList(1, 4));
        assertEquals(10, first[3].split(" ").length);
        double sum = Arrays.stream(first[3].split(" ")).mapToDouble(s -> Double.parseDouble(s.split("=")[1])).sum();
        assertEquals(1.0, sum, 10 * 5e-5, "ten probabilities printed to 4 decimals add up to 1");
    }

    /** Test image i as a 28×28 grey PNG, optionally dark on light. */
    private static Path png(Dataset data, int i, boolean invert, String name) throws IOException {
        float[] pixels = new float[784];
        data.copyImage(i, pixels, 0);
        BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
        for (int p = 0; p < 784; p++) {
            int v = Math.round(255 * (invert ? 1 - pixels[p] : pixels[p]));
            image.setRGB(p % 28, p / 28, v << 16 | v << 8 | v);
        }
        Path file = dir.resolve(name);
        ImageIO.write(image, "png", file.toFile());
        return file;
    }

    @Test
    void infoDescribesTheModelAndTheMachine() {
        CliRun r = CliRun.of("info", run.resolve("model.safetensors").toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("Total params: 3,274,634"), r.toString());
        CliRun machine = CliRun.of("info");
        assertEquals(0, machine.code(), machine.toString());
        assertTrue(machine.out().contains("java:"), machine.toString());
    }

    @Test
    void badUsageExitsWithTwoAndOneLine() throws IOException {
        Path model = run.resolve("model.safetensors");
        Path truncated = dir.resolve("truncated.safetensors");
        Files.write(truncated, Arrays.copyOf(Files.readAllBytes(model), 5000));
        Path image = png(FashionMnist.load(Path.of("test-data", "fashion-mnist-1k"), Split.TEST), 1, false, "x.png");
        Path notImage = Files.writeString(dir.resolve("not-an-image.png"), "hello");
        String[][] cases = {
            {},
            {"train", "--bogus"},
            {"train", "--epochs", "many"},
            {"train", "--dataset", "cifar"},
            {"train", "--resume", dir.resolve("missing.safetensors").toString()},
            {"train", "--resume", run.resolve("checkpoint.safetensors").toString(), "--seed", "99", "--data",
                data.toString(), "--dataset", "fashion-mnist", "--limit", "500"},
            {"evaluate", dir.resolve("missing.safetensors").toString()},
            {"evaluate", truncated.toString()},
            {"evaluate", model.toString(), "--split", "validation"},
            {"predict", model.toString()},
            {"predict", model.toString(), dir.resolve("missing.png").toString()},
            {"predict", model.toString(), notImage.toString()},
            {"predict", model.toString(), image.toString(), "--backend", "tpu"},
            {"info", dir.resolve("missing.safetensors").toString()},
        };
        for (String[] args : cases) {
            CliRun r = CliRun.of(args);
            assertEquals(2, r.code(), String.join(" ", args) + "\n" + r);
            assertEquals(1, r.errLines().size(), String.join(" ", args) + "\n" + r);
            assertTrue(r.err().startsWith("receptive"), r.toString());
        }
    }

    @Test
    void modelWhoseInputDoesNotFitIsBadUsage() throws IOException {
        Path small = dir.resolve("small-input.safetensors");
        Path twoChannels = dir.resolve("two-channel-input.safetensors");
        try (Backend cpu = TestBackends.cpu(1);
                Model eight = Sequential.builder().input(1, 8, 8).add(new Flatten())
                        .add(Dense.builder().units(10).build()).build(cpu);
                Model two = Sequential.builder().input(2, 28, 28).add(new Flatten())
                        .add(Dense.builder().units(10).build()).build(cpu)) {
            ModelInfo info = new ModelInfo(Normalization.FASHION_MNIST, List.of());
            eight.setInfo(info);
            two.setInfo(info);
            ModelFile.save(small, eight);
            ModelFile.save(twoChannels, two);
        }
        CliRun evaluate = CliRun.of("evaluate", small.toString(), "--dataset", "fashion-mnist", "--data", data.toString());
        assertEquals(2, evaluate.code(), evaluate.toString());
        assertEquals(small + ": the model takes (1, 8, 8), but fashion-mnist has (1, 28, 28) images in "
                + "10 classes", evaluate.err().strip().replaceFirst("^receptive evaluate: ", ""));
        Path image = png(FashionMnist.load(Path.of("test-data", "fashion-mnist-1k"), Split.TEST), 2, false, "y.png");
        CliRun predict = CliRun.of("predict", twoChannels.toString(), image.toString());
        assertEquals(2, predict.code(), predict.toString());
        assertEquals(1, predict.errLines().size(), predict.toString());
        assertTrue(predict.err().contains("the model takes (2, 28, 28)"), predict.toString());
    }

    @Test
    void resumeNeverWritesIntoAnotherRunsFolderAndKeepsTheSettings() throws IOException {
        Path checkpoint = run.resolve("checkpoint.safetensors");
        byte[] before = Files.readAllBytes(checkpoint);
        // Another run's folder as --out: refused before any training, nothing there changes.
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        Files.copy(checkpoint, other.resolve("checkpoint.safetensors"));
        CliRun intoOther = CliRun.of("train", "--resume", checkpoint.toString(), "--epochs", "2", "--limit", "500",
                "--dataset", "fashion-mnist", "--data", data.toString(), "--out", other.toString(), "--backend", "cpu");
        assertEquals(2, intoOther.code(), intoOther.toString());
        assertTrue(intoOther.err().contains("holds the checkpoint of another run"), intoOther.toString());
        // Another learning rate than the checkpoint's: refused, with the option that allows it.
        CliRun otherLr = CliRun.of("train", "--resume", checkpoint.toString(), "--epochs", "2", "--limit", "500",
                "--lr", "0.01", "--dataset", "fashion-mnist", "--data", data.toString(), "--out",
                dir.resolve("lr").toString(), "--backend", "cpu");
        assertEquals(2, otherLr.code(), otherLr.toString());
        assertTrue(otherLr.err().contains("lr 0.001 -> 0.01") && otherLr.err().contains("--allow-changed-settings"),
                otherLr.toString());
        // A file as --out: refused before the data is read.
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        CliRun intoFile = CliRun.of("train", "--out", file.toString(), "--data", dir.resolve("nothing").toString());
        assertEquals(2, intoFile.code(), intoFile.toString());
        assertTrue(intoFile.err().contains("is a file, not a folder"), intoFile.toString());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(checkpoint)), "the original run is untouched");
    }

    @Test
    void aModelThatDoesNotSayHowInputsWereNormalizedIsRefused() throws IOException {
        Path bare = dir.resolve("bare.safetensors");
        try (Backend cpu = TestBackends.cpu(1);
                Model model = Sequential.builder().input(1, 28, 28).add(new Flatten())
                        .add(Dense.builder().units(10).build()).build(cpu)) {
            ModelFile.save(bare, model);
        }
        CliRun evaluate = CliRun.of("evaluate", bare.toString(), "--dataset", "fashion-mnist", "--data", data.toString());
        assertEquals(2, evaluate.code(), evaluate.toString());
        assertTrue(evaluate.err().contains("does not record how its inputs were normalized"), evaluate.toString());
        Path image = png(FashionMnist.load(Path.of("test-data", "fashion-mnist-1k"), Split.TEST), 2, false, "z.png");
        CliRun predict = CliRun.of("predict", bare.toString(), image.toString());
        assertEquals(2, predict.code(), predict.toString());
        assertTrue(predict.err().contains("does not record how its inputs were normalized"), predict.toString());
    }

    @Test
    void verboseAddsTheStackTrace() {
        CliRun quiet = CliRun.of("evaluate", dir.resolve("missing.safetensors").toString());
        CliRun verbose = CliRun.of("evaluate", "-v", dir.resolve("missing.safetensors").toString());
        assertEquals(1, quiet.errLines().size());
        assertEquals(quiet.errLines().get(0), verbose.errLines().get(0));
        assertTrue(verbose.err().contains("at dev.receptive.cli.Inputs"), verbose.toString());
    }
}
