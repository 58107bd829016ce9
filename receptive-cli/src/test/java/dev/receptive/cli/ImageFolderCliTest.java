package dev.receptive.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.data.ImageFolder;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Model;
import dev.receptive.tensor.Shape;
import dev.receptive.testing.TestBackends;
import dev.receptive.zoo.Zoo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An image-folder run end to end on the fixture folder: train a few steps, evaluate, predict. */
class ImageFolderCliTest {
    private static final Path FOLDER = Path.of("test-data", "image-folder");
    private static final Pattern ACCURACY = Pattern.compile("accuracy=([0-9.]+) loss=([0-9.]+)");

    @TempDir
    static Path dir;
    private static Path run;
    private static CliRun trained;

    @BeforeAll
    static void train() {
        run = dir.resolve("run");
        trained = CliRun.of("train", "--dataset", "folder:" + FOLDER, "--model", "seednet", "--epochs", "2", "--batch",
                "8", "--out", run.toString(), "--backend", "cpu");
    }

    @Test
    void trainsOnTheTrainingPartAndRecordsTheFolder() throws IOException {
        assertEquals(0, trained.code(), trained.toString());
        // 0.2 of 12 files per class rounds to 2: 30 training and 6 validation images.
        assertTrue(trained.err().contains("(30 training, 6 validation images of (1, 28, 28) in 3 classes)"),
                trained.toString());
        assertTrue(trained.lastOutLine().startsWith("test_accuracy="), trained.toString());
        ModelFile.Contents model = ModelFile.read(run.resolve("model.safetensors"));
        assertEquals(List.of("bag", "sneaker", "trouser"), model.model().info().classNames());
        assertEquals("folder:" + FOLDER.toAbsolutePath().normalize(), model.metadata().get(ModelMetadata.DATASET));
        assertEquals("0.2,1", model.metadata().get(FolderData.SPLIT));
        // Normalized by the training part's own statistics (dark images: mean well below 0.5).
        double mean = model.model().info().normalization().mean();
        assertTrue(mean > 0.05 && mean < 0.5, "mean " + mean);
        assertTrue(Files.readString(run.resolve("metrics.csv")).contains("epoch,2,"), "two epochs recorded");
    }

    @Test
    void evaluateReadsTheRecordedFolderAndSplit() {
        Path model = run.resolve("model.safetensors");
        CliRun all = CliRun.of("evaluate", model.toString(), "--backend", "cpu");
        assertEquals(0, all.code(), all.toString());
        assertTrue(all.err().contains(" all (36 images)"), all.toString());
        CliRun validation = CliRun.of("evaluate", model.toString(), "--split", "validation", "--backend", "cpu");
        assertEquals(0, validation.code(), validation.toString());
        assertTrue(validation.err().contains(" validation (6 images)"), validation.toString());
        // Evaluate rebuilds the same split and normalization: the validation loss and accuracy the
        // trainer printed for the kept epoch are what it measures.
        Matcher m = ACCURACY.matcher(validation.lastOutLine());
        assertTrue(m.matches(), validation.toString());
        Matcher saved = Pattern.compile("\\(epoch (\\d+), ").matcher(trained.out());
        assertTrue(saved.find(), trained.toString());
        Matcher epoch = Pattern.compile("epoch " + saved.group(1) + "/2: train .* val loss ([0-9.]+) acc ([0-9.]+)%")
                .matcher(trained.out());
        assertTrue(epoch.find(), trained.toString());
        assertEquals(Double.parseDouble(epoch.group(2)), 100 * Double.parseDouble(m.group(1)), 0.01, validation.toString());
        assertEquals(Double.parseDouble(epoch.group(1)), Double.parseDouble(m.group(2)), 1e-4, validation.toString());
        CliRun train = CliRun.of("evaluate", model.toString(), "--split", "train", "--backend", "cpu");
        assertTrue(train.err().contains(" train (30 images)"), train.toString());
        CliRun bad = CliRun.of("evaluate", model.toString(), "--split", "test", "--backend", "cpu");
        assertEquals(Main.USAGE, bad.code(), bad.toString());
        assertTrue(bad.err().contains("all, train or validation"), bad.toString());
    }

    @Test
    void predictClassifiesAFileAndAFolder() {
        Path model = run.resolve("model.safetensors");
        Path bag = FOLDER.resolve("bag").resolve("0018.png");
        CliRun one = CliRun.of("predict", model.toString(), bag.toString(), "--backend", "cpu");
        assertEquals(0, one.code(), one.toString());
        assertEquals(1, one.outLines().size(), one.toString());
        String[] fields = one.outLines().get(0).split("\t");
        assertEquals(bag.toString(), fields[0]);
        assertTrue(List.of("bag", "sneaker", "trouser").contains(fields[1]), one.toString());
        assertFalse(one.out().contains("(inverted)"), "folder-trained models see images as they are: " + one);
        CliRun folder = CliRun.of("predict", model.toString(), "--dataset", "folder:" + FOLDER.resolve("trouser"),
                "--backend", "cpu");
        assertEquals(0, folder.code(), folder.toString());
        assertEquals(12, folder.outLines().size(), folder.toString());
        CliRun none = CliRun.of("predict", model.toString(), "--backend", "cpu");
        assertEquals(Main.USAGE, none.code(), none.toString());
    }

    @Test
    void theModelsInputDecidesChannelsAndSize() throws IOException {
        Path json = dir.resolve("rgb16.json");
        try (Backend cpu = TestBackends.cpu(1);
                Model net = Zoo.resnet(Shape.of(3, 16, 16), 1, 4, 3).seed(2).build(cpu)) {
            Files.writeString(json, net.architecture());
        }
        Path rgbRun = dir.resolve("rgb");
        CliRun r = CliRun.of("train", "--dataset", "folder:" + FOLDER, "--model", json.toString(), "--epochs", "1",
                "--batch", "10", "--val-split", "0.25", "--seed", "3", "--out", rgbRun.toString(), "--backend", "cpu");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("(27 training, 9 validation images of (3, 16, 16) in 3 classes)"), r.toString());
        CliRun misfit = CliRun.of("train", "--dataset", "folder:" + FOLDER, "--model", json.toString(), "--channels",
                "1", "--out", dir.resolve("misfit").toString(), "--backend", "cpu");
        assertEquals(Main.USAGE, misfit.code(), misfit.toString());
        assertTrue(misfit.err().contains("(3, 16, 16)"), misfit.toString());
    }

    @Test
    void badFolderOptionsAreRefusedBeforeTraining() throws IOException {
        Path damaged = dir.resolve("damaged");
        for (String c : List.of("a", "b")) {
            Path d = Files.createDirectories(damaged.resolve(c));
            for (int i = 0; i < 3; i++) {
                Files.copy(FOLDER.resolve("bag").resolve("0018.png"), d.resolve(i + ".png"));
            }
        }
        Path broken = damaged.resolve("b").resolve("1.png");
        Files.writeString(broken, "not a png");
        String[][] cases = {
            {"--dataset", "folder:"},
            {"--dataset", "folder:" + dir.resolve("missing")},
            {"--dataset", "folder:" + FOLDER, "--image-size", "2"},
            {"--dataset", "folder:" + FOLDER, "--image-size", "20x"},
            {"--dataset", "folder:" + FOLDER, "--channels", "2"},
            {"--dataset", "folder:" + FOLDER, "--val-split", "1"},
            {"--dataset", "mnist", "--channels", "3"},
            {"--dataset", "folder:" + damaged},
        };
        String[] expected = {"needs the folder", "missing", "--image-size", "--image-size", "--channels", "--val-split",
            "folder:PATH only", broken.toString()};
        for (int i = 0; i < cases.length; i++) {
            String[] args = new String[cases[i].length + 5];
            args[0] = "train";
            System.arraycopy(cases[i], 0, args, 1, cases[i].length);
            Path out = dir.resolve("bad" + i);
            System.arraycopy(new String[] {"--out", out.toString(), "--backend", "cpu"}, 0, args, cases[i].length + 1, 4);
            CliRun r = CliRun.of(args);
            assertNotEquals(0, r.code(), String.join(" ", args) + "\n" + r);
            assertEquals(1, r.errLines().size(), "one line: " + r);
            assertTrue(r.err().contains(expected[i]), String.join(" ", args) + "\n" + r);
            assertFalse(Files.exists(out.resolve("checkpoint.safetensors")), r.toString());
        }
        assertEquals(2, ImageFolder.scan(damaged).classNames().size());
    }
}
