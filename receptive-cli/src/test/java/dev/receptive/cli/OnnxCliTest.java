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
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sequential;
import dev.receptive.onnx.OnnxFile;
import dev.receptive.testing.TestBackends;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX on the command line: export, and ONNX files wherever a model file is taken (info,
 * predict, evaluate, and train --init to fine-tune), with PyTorch's exported seed-network copy of
 * test-data/onnx/ as the model from elsewhere.
 */
class OnnxCliTest {
    private static final Path PYTORCH = Path.of("test-data", "onnx", "seednet.onnx").toAbsolutePath();
    private static final Pattern ACCURACY = Pattern.compile("accuracy=([0-9.]+) loss=.*");

    @TempDir
    static Path dir;
    private static Path data;
    private static Path model;

    @BeforeAll
    static void files() throws Exception {
        data = FixtureData.folder(dir);
        model = dir.resolve("model.safetensors");
        try (Backend cpu = TestBackends.cpu(1);
                Model net = Sequential.builder().input(1, 28, 28)
                        .add(Conv2d.builder().filters(4).kernel(3).padding(1).build()).add(new ReLU())
                        .add(new MaxPool2d(2)).add(new Flatten()).add(Dense.builder().units(10).build())
                        .seed(3).build(cpu)) {
            net.setInfo(new ModelInfo(Normalization.FASHION_MNIST, FashionMnist.CLASS_NAMES));
            ModelFile.save(model, net);
        }
    }

    @Test
    void exportWritesAnOnnxFileThatInfoPredictAndEvaluateRead() throws Exception {
        Path onnx = dir.resolve("exported.onnx");
        CliRun export = CliRun.of("export", model.toString(), "--onnx", onnx.toString());
        assertEquals(0, export.code(), export.toString());
        assertTrue(export.lastOutLine().startsWith("exported " + model + " to " + onnx + " (ONNX opset 17, "),
                export.toString());
        ModelFile.Contents read = OnnxFile.read(onnx);
        assertEquals(new ModelInfo(Normalization.FASHION_MNIST, FashionMnist.CLASS_NAMES), read.model().info());

        CliRun info = CliRun.of("info", onnx.toString());
        assertEquals(0, info.code(), info.toString());
        assertTrue(info.out().contains(" bytes, ONNX)"), info.toString());
        assertTrue(info.out().contains("meta:    onnx.opset = 17"), info.toString());

        Path image = image(0);
        CliRun fromSafetensors = CliRun.of("predict", model.toString(), image.toString(), "--backend", "cpu");
        CliRun fromOnnx = CliRun.of("predict", onnx.toString(), image.toString(), "--backend", "cpu");
        assertEquals(0, fromOnnx.code(), fromOnnx.toString());
        assertEquals(fromSafetensors.out(), fromOnnx.out(), "the same classes and probabilities");
        assertFalse(fromOnnx.err().contains("records no normalization"), "the file records Fashion-MNIST's");

        CliRun a = CliRun.of("evaluate", model.toString(), "--dataset", "fashion-mnist", "--data", data.toString(),
                "--backend", "cpu");
        CliRun b = CliRun.of("evaluate", onnx.toString(), "--dataset", "fashion-mnist", "--data", data.toString(),
                "--backend", "cpu");
        assertEquals(0, b.code(), b.toString());
        assertEquals(a.lastOutLine(), b.lastOutLine());
    }

    /** An ONNX file without Receptive's metadata takes pixels in [0, 1], and predict says so in one line. */
    @Test
    void predictFeedsUnitRangePixelsToForeignOnnxFiles() throws Exception {
        Path image = image(1);
        // --no-invert: this pullover is light on dark, which predict would invert for a grayscale model.
        CliRun r = CliRun.of("predict", PYTORCH.toString(), image.toString(), "--no-invert", "--backend", "cpu");
        assertEquals(0, r.code(), r.toString());
        List<String> notes = r.errLines().stream().filter(l -> l.contains("records no normalization")).toList();
        assertEquals(List.of("receptive predict: " + PYTORCH + " records no normalization: feeding pixels scaled to"
                + " [0, 1] (mean 0, std 1); --mean and --std set others"), notes);
        // The printed probability of the best class is the softmax of the model on the image's pixels / 255.
        float[] pixels = new float[784];
        FashionMnist.load(Path.of("test-data", "fashion-mnist-1k"), Split.TEST, Normalization.UNIT_RANGE)
                .copyImage(1, pixels, 0);
        float[] p;
        try (Backend cpu = TestBackends.cpu(1); Model m = OnnxFile.read(PYTORCH).model().place(cpu)) {
            p = m.predictor().probabilities(pixels);
        }
        int best = 0;
        for (int c = 1; c < 10; c++) {
            best = p[c] > p[best] ? c : best;
        }
        String[] fields = r.lastOutLine().split("\t");
        assertEquals(Integer.toString(best), fields[1], r.toString());
        assertEquals(String.format(Locale.ROOT, "%.4f", p[best]), fields[2], r.toString());

        CliRun scaled = CliRun.of("predict", PYTORCH.toString(), image.toString(), "--no-invert", "--mean", "0.5",
                "--std", "0.25", "--backend", "cpu");
        assertEquals(0, scaled.code(), scaled.toString());
        assertFalse(scaled.err().contains("records no normalization"), scaled.toString());
        assertFalse(scaled.out().equals(r.out()), "other scaling, other probabilities");

        CliRun refused = CliRun.of("predict", model.toString(), image.toString(), "--mean", "0.5");
        assertEquals(2, refused.code(), refused.toString());
        assertTrue(refused.err().contains("records its normalization (mean 0.286, std 0.353); --mean and --std apply to"
                + " files that record none"), refused.toString());
    }

    /** train --init fine-tunes PyTorch's model on the CPU; its accuracy rises from chance. */
    @Test
    void trainInitFineTunesAnOnnxModel() {
        CliRun before = CliRun.of("evaluate", PYTORCH.toString(), "--dataset", "fashion-mnist", "--data",
                data.toString(), "--mean", "0.286", "--std", "0.353", "--backend", "cpu");
        assertEquals(0, before.code(), before.toString());
        Path run = dir.resolve("fine-tuned");
        CliRun tuned = CliRun.of("train", "--init", PYTORCH.toString(), "--dataset", "fashion-mnist", "--data",
                data.toString(), "--epochs", "1", "--limit", "1000", "--lr", "0.003", "--out", run.toString(),
                "--backend", "cpu");
        assertEquals(0, tuned.code(), tuned.toString());
        CliRun after = CliRun.of("evaluate", run.resolve("model.safetensors").toString(), "--dataset", "fashion-mnist",
                "--data", data.toString(), "--backend", "cpu");
        double was = accuracy(before);
        double is = accuracy(after);
        assertTrue(was < 0.3 && is > was + 0.3, "accuracy " + was + " before fine-tuning, " + is + " after");

        CliRun both = CliRun.of("train", "--init", PYTORCH.toString(), "--model", "resnet8", "--data", data.toString());
        assertEquals(2, both.code(), both.toString());
        assertTrue(both.err().contains("gives the architecture; leave out --model resnet8"), both.toString());
        CliRun resume = CliRun.of("train", "--init", PYTORCH.toString(), "--resume", "x.safetensors");
        assertEquals(2, resume.code(), resume.toString());
        assertTrue(resume.err().contains("--init starts a new run"), resume.toString());
        CliRun resnet = CliRun.of("train", "--init", Path.of("test-data", "onnx", "resnet.onnx").toString(),
                "--dataset", "fashion-mnist", "--data", data.toString(), "--limit", "100", "--backend", "cpu");
        assertEquals(2, resnet.code(), resnet.toString());
        assertTrue(resnet.err().contains("the model takes (3, 12, 12)") || resnet.err().contains("[3, 12, 12]"),
                resnet.toString());
    }

    @Test
    void brokenOnnxFilesAreBadUsage() throws Exception {
        Path cut = dir.resolve("cut.onnx");
        byte[] bytes = Files.readAllBytes(PYTORCH);
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 3));
        for (String command : new String[] {"info", "predict", "export"}) {
            CliRun r = switch (command) {
                case "export" -> CliRun.of("export", cut.toString(), "--onnx", dir.resolve("x.onnx").toString());
                case "predict" -> CliRun.of("predict", cut.toString(), image(2).toString());
                default -> CliRun.of("info", cut.toString());
            };
            assertEquals(2, r.code(), command + ": " + r);
            assertTrue(r.err().contains(cut + ": not an ONNX model"), command + ": " + r);
        }
    }

    private static double accuracy(CliRun r) {
        Matcher m = ACCURACY.matcher(r.lastOutLine());
        assertTrue(m.matches(), r.toString());
        return Double.parseDouble(m.group(1));
    }

    /** Test image i as a gray PNG. */
    private static Path image(int i) throws Exception {
        Dataset pixels = FashionMnist.load(Path.of("test-data", "fashion-mnist-1k"), Split.TEST,
                Normalization.UNIT_RANGE);
        float[] v = new float[784];
        pixels.copyImage(i, v, 0);
        BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        int[] samples = new int[784];
        for (int p = 0; p < 784; p++) {
            samples[p] = Math.round(v[p] * 255);
        }
        image.getRaster().setSamples(0, 0, 28, 28, 0, samples);
        Path file = dir.resolve("image-" + i + ".png");
        ImageIO.write(image, "png", file.toFile());
        return file;
    }
}
