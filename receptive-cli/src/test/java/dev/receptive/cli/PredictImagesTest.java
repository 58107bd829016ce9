package dev.receptive.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Normalization;
import dev.receptive.data.Split;
import dev.receptive.io.ModelFile;
import dev.receptive.io.Safetensors;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.Sequential;
import dev.receptive.testing.Allocation;
import dev.receptive.testing.HostileImages;
import dev.receptive.testing.TestBackends;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * predict on images: gray PNGs give exactly the dataset's pixels, hostile and damaged images are
 * refused quickly with one line naming the file, and class names cannot forge output lines.
 */
class PredictImagesTest {
    private static final Normalization NORM = Normalization.FASHION_MNIST;

    @TempDir
    static Path dir;
    private static Path model;
    private static Dataset pixels; // bytes / 255, to write images from
    private static Dataset normalized; // as training and evaluate see them

    @BeforeAll
    static void smallModel() throws IOException {
        Path fixture = Path.of("test-data", "fashion-mnist-1k");
        pixels = FashionMnist.load(fixture, Split.TEST, Normalization.UNIT_RANGE);
        normalized = FashionMnist.load(fixture, Split.TEST, NORM);
        model = dir.resolve("model.safetensors");
        try (Backend cpu = TestBackends.cpu(1);
                Model net = Sequential.builder().input(1, 28, 28).add(new Flatten())
                        .add(Dense.builder().units(10).build()).seed(3).build(cpu)) {
            net.setInfo(new ModelInfo(NORM, FashionMnist.CLASS_NAMES));
            ModelFile.save(model, net);
        }
    }

    /** Dataset image i as an 8-bit grayscale PNG (TYPE_BYTE_GRAY, what a gray PNG decodes to). */
    private static Path grayPng(int i) throws IOException {
        float[] v = new float[784];
        pixels.copyImage(i, v, 0);
        BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        int[] samples = new int[784];
        for (int p = 0; p < 784; p++) {
            samples[p] = Math.round(v[p] * 255);
        }
        image.getRaster().setSamples(0, 0, 28, 28, 0, samples);
        Path file = dir.resolve("gray-" + i + ".png");
        ImageIO.write(image, "png", file.toFile());
        return file;
    }

    @Test
    void grayPngGivesTheDatasetsProbabilities() throws IOException {
        int n = 20;
        List<String> args = new ArrayList<>(List.of("predict", model.toString(), "--no-invert", "--backend", "cpu"));
        for (int i = 0; i < n; i++) {
            args.add(grayPng(i).toString());
        }
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.toString());
        float[] x = new float[n * 784];
        for (int i = 0; i < n; i++) {
            normalized.copyImage(i, x, i * 784);
        }
        float[] p;
        try (Backend cpu = TestBackends.cpu(1); Model net = ModelFile.load(model, cpu)) {
            float[][] items = new float[n][];
            for (int i = 0; i < n; i++) {
                items[i] = Arrays.copyOfRange(x, i * 784, (i + 1) * 784);
            }
            float[][] rows = net.predictor().probabilities(items);
            p = new float[n * 10];
            for (int i = 0; i < n; i++) {
                System.arraycopy(rows[i], 0, p, i * 10, 10);
            }
        }
        for (int i = 0; i < n; i++) {
            StringBuilder expected = new StringBuilder();
            for (int c = 0; c < 10; c++) {
                expected.append(c == 0 ? "" : " ").append(FashionMnist.CLASS_NAMES.get(c).replace(' ', '_')).append('=')
                        .append(String.format(Locale.ROOT, "%.4f", p[i * 10 + c]));
            }
            assertEquals(expected.toString(), r.outLines().get(i).split("\t")[3], "image " + i);
        }
    }

    /** predict on one file: exit 2 with one line that names the file, soon and without a large allocation. */
    private static void refused(Path file) {
        CliRun r = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            long before = Allocation.bytes();
            CliRun run = CliRun.of("predict", model.toString(), file.toString(), "--backend", "cpu");
            long allocated = Allocation.bytes() - before;
            assertTrue(allocated < 64L << 20, file + ": allocated " + allocated + " bytes");
            return run;
        }, file.toString());
        assertEquals(2, r.code(), file + "\n" + r);
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().contains(file.toString()), "names the file: " + r);
    }

    @Test
    void hugeDimensionsAreRefusedBeforeDecoding() throws IOException {
        refused(Files.write(dir.resolve("huge-header.jpg"), HostileImages.jpegClaiming(30000, 30000)));
        refused(Files.write(dir.resolve("huge.png"), HostileImages.pngClaiming(40000, 40000)));
    }

    @Test
    void truncatedJpegsAreRefused() throws IOException {
        byte[] jpeg = HostileImages.noise("jpeg", 64, 64);
        List<Integer> cuts = new ArrayList<>();
        for (int cut = jpeg.length / 2; cut < jpeg.length; cut += Math.max(1, jpeg.length / 40)) {
            cuts.add(cut);
        }
        cuts.add(jpeg.length - 2); // only the end-of-image marker missing
        for (int cut : cuts) {
            refused(Files.write(dir.resolve("truncated-" + cut + ".jpg"), Arrays.copyOf(jpeg, cut)));
        }
    }

    @Test
    void classNamesCannotForgeOutputLines() throws IOException {
        // The library refuses such names when saving, so forge the file's metadata directly.
        Path forged = dir.resolve("forged.safetensors");
        Safetensors.Loaded original = Safetensors.read(model);
        Map<String, String> metadata = new LinkedHashMap<>(original.metadata());
        List<String> names = new ArrayList<>(FashionMnist.CLASS_NAMES);
        for (int c = 0; c < names.size(); c++) {
            names.set(c, "name" + c + "\tfake\t1.0\nextra.png\t" + c);
        }
        metadata.put(ModelFile.CLASSES, new com.google.gson.Gson().toJson(names));
        Safetensors.write(forged, original.tensors(), metadata);
        Path image = grayPng(0);
        CliRun refused = CliRun.of("predict", forged.toString(), image.toString(), "--backend", "cpu");
        assertTrue(refused.code() != 0, refused.toString());
        assertTrue(refused.err().contains(forged.toString()) && refused.err().contains("control characters"),
                refused.toString());
        assertTrue(refused.out().isEmpty(), refused.toString());

        Path oddName = Files.copy(image, dir.resolve("odd\tname\n.png"));
        CliRun r = CliRun.of("predict", model.toString(), image.toString(), oddName.toString(), "--backend", "cpu");
        assertEquals(0, r.code(), r.toString());
        assertEquals(2, r.outLines().size(), "one line per image: " + r);
        for (String line : r.outLines()) {
            assertEquals(4, line.split("\t", -1).length, line);
        }
        assertTrue(r.outLines().get(1).startsWith(dir.resolve("odd\\tname\\n.png").toString() + "\t"), r.toString());
    }
}
