package dev.receptive.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Model;
import dev.receptive.nn.Sequential;
import dev.receptive.tensor.Shape;
import dev.receptive.testing.Allocation;
import dev.receptive.testing.HostileImages;
import dev.receptive.testing.TestBackends;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageInputTest {
    @TempDir
    static Path dir;
    private static Dataset pixels; // bytes / 255
    private static Dataset normalized; // as a model is trained on them

    @BeforeAll
    static void load() throws IOException {
        Path fixture = Path.of("test-data", "fashion-mnist-1k");
        pixels = FashionMnist.load(fixture, Split.TEST, Normalization.UNIT_RANGE);
        normalized = FashionMnist.load(fixture, Split.TEST, Normalization.FASHION_MNIST);
    }

    private static int[] bytes(int i) {
        float[] v = new float[784];
        pixels.copyImage(i, v, 0);
        int[] b = new int[784];
        for (int p = 0; p < 784; p++) {
            b[p] = Math.round(v[p] * 255);
        }
        return b;
    }

    private static Path write(BufferedImage image, String format, String name) throws IOException {
        return Files.write(dir.resolve(name), HostileImages.encode(image, format));
    }

    private static ImageInput gray28() {
        return ImageInput.builder().shape(1, 28, 28).normalize(Normalization.FASHION_MNIST).build();
    }

    /**
     * The finding: through getRGB a gray PNG's mid-tones moved by up to 73/255 and 4 of
     * 20 test images changed class. Through the raster samples the values are the dataset's, bit
     * for bit, and so are a model's probabilities.
     */
    @Test
    void grayPngGivesExactlyTheDatasetsValuesAndProbabilities() throws IOException {
        int n = 20;
        float[] fromFiles = new float[n * 784];
        float[] fromDataset = new float[n * 784];
        for (int i = 0; i < n; i++) {
            BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            image.getRaster().setSamples(0, 0, 28, 28, 0, bytes(i));
            for (String format : new String[] {"png", "bmp"}) {
                ImageInput.Loaded loaded = gray28().load(write(image, format, "gray-" + i + "." + format));
                System.arraycopy(loaded.values(), 0, fromFiles, i * 784, 784);
                assertFalse(loaded.inverted());
                normalized.copyImage(i, fromDataset, i * 784);
                assertArrayEquals(Arrays.copyOfRange(fromDataset, i * 784, i * 784 + 784), loaded.values(),
                        format + " image " + i);
            }
        }
        try (Backend cpu = TestBackends.cpu(1);
                Model net = Sequential.builder().input(1, 28, 28).add(new Flatten())
                        .add(Dense.builder().units(32).build()).add(new ReLU()).add(Dense.builder().units(10).build())
                        .seed(7).build(cpu)) {
            // The same probabilities as evaluating the dataset's own images.
            assertArrayEquals(net.predictor().outputs(fromDataset), net.predictor().outputs(fromFiles));
        }
    }

    @Test
    void sixteenBitGrayAndGrayAsRgbGiveTheSameValues() throws IOException {
        int[] b = bytes(3);
        BufferedImage wide = new BufferedImage(28, 28, BufferedImage.TYPE_USHORT_GRAY);
        BufferedImage rgb = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
        for (int p = 0; p < 784; p++) {
            wide.getRaster().setSample(p % 28, p / 28, 0, b[p] * 257);
            rgb.setRGB(p % 28, p / 28, b[p] << 16 | b[p] << 8 | b[p]);
        }
        float[] expected = new float[784];
        normalized.copyImage(3, expected, 0);
        assertArrayEquals(expected, gray28().load(write(wide, "png", "wide.png")).values());
        assertArrayEquals(expected, gray28().load(write(rgb, "png", "rgb.png")).values());
    }

    @Test
    void rgbChannelsAreNormalizedEachWithTheirOwnMeanAndStd() throws IOException {
        BufferedImage image = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, 255 << 16 | 0 << 8 | 51);
        image.setRGB(1, 0, 0 << 16 | 102 << 8 | 255);
        double[] mean = {0.5, 0.25, 0.0};
        double[] std = {0.5, 0.25, 2.0};
        ImageInput input = ImageInput.builder().shape(3, 1, 2).normalize(mean, std).build();
        float[] v = input.load(write(image, "png", "colour.png")).values();
        // (C, H, W): R plane, G plane, B plane; (v / 255 - mean) / std.
        assertArrayEquals(new float[] {1f, -1f, -1f, (float) ((0.4 - 0.25) / 0.25), 0.1f, 0.5f}, v);
        ImageInput gray = ImageInput.builder().shape(1, 1, 2).build();
        float[] luma = gray.load(write(image, "png", "colour2.png")).values();
        assertEquals((0.299 * 255 + 0.114 * 51) / 255, luma[0], 1e-6);
        assertEquals((0.587 * 102 + 0.114 * 255) / 255, luma[1], 1e-6);
    }

    @Test
    void resizeAveragesTheAreaEachOutputPixelCovers() {
        // 3 -> 2: the middle pixel is split between both outputs.
        assertArrayEquals(new double[] {30, 150}, ImageInput.resize(new double[] {0, 90, 180}, 1, 3, 1, 2, 1), 1e-12);
        // 2x2 blocks of one value -> the value; 1 -> 2 repeats.
        double[] blocks = {1, 1, 5, 5, 1, 1, 5, 5};
        assertArrayEquals(new double[] {1, 5}, ImageInput.resize(blocks, 1, 4, 2, 2, 1), 1e-12);
        assertArrayEquals(new double[] {7, 7, 7, 7}, ImageInput.resize(new double[] {7}, 1, 1, 1, 2, 2), 1e-12);
        // Two channels resized independently.
        assertArrayEquals(new double[] {2, 20}, ImageInput.resize(new double[] {1, 3, 10, 30}, 2, 2, 1, 1, 1), 1e-12);
    }

    @Test
    void largeImagesAreDecodedSubsampledAndResized() throws IOException {
        BufferedImage image = new BufferedImage(2800, 1400, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 1400; y++) {
            for (int x = 0; x < 2800; x++) {
                image.getRaster().setSample(x, y, 0, x < 1400 ? 255 : 0);
            }
        }
        Path file = write(image, "png", "large.png");
        long before = Allocation.bytes();
        ImageInput.Loaded loaded = ImageInput.builder().shape(1, 14, 28).build().load(file);
        long allocated = Allocation.bytes() - before;
        assertEquals(2800, loaded.sourceWidth());
        assertEquals(1400, loaded.sourceHeight());
        float[] expected = new float[14 * 28];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = i % 28 < 14 ? 1f : 0f;
        }
        assertArrayEquals(expected, loaded.values());
        // The whole image would be 3.9 MB of bytes and 31 MB as doubles; subsampled it is far less.
        assertTrue(allocated < 8 << 20, "allocated " + allocated);
    }

    @Test
    void autoInvertsLightImagesAndTransparentIsWhite() throws IOException {
        BufferedImage light = new BufferedImage(2, 2, BufferedImage.TYPE_INT_ARGB);
        light.setRGB(0, 0, 0x00000000); // transparent: white background
        light.setRGB(1, 0, 0xFFFFFFFF);
        light.setRGB(0, 1, 0xFF000000);
        light.setRGB(1, 1, 0xFFFFFFFF);
        ImageInput auto = ImageInput.builder().shape(1, 2, 2).invert(ImageInput.Invert.AUTO).build();
        ImageInput.Loaded loaded = auto.load(write(light, "png", "light.png"));
        assertTrue(loaded.inverted());
        assertArrayEquals(new float[] {0, 0, 1, 0}, loaded.values());
        ImageInput never = ImageInput.builder().shape(1, 2, 2).build();
        assertArrayEquals(new float[] {1, 1, 0, 1}, never.load(write(light, "png", "light2.png")).values());
    }

    /** Refused with an IOException naming the file, within seconds and without a large allocation. */
    private static IOException refused(ImageInput input, Path file) {
        return assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            long before = Allocation.bytes();
            IOException e = assertThrows(IOException.class, () -> input.load(file), file.toString());
            long allocated = Allocation.bytes() - before;
            assertTrue(allocated < 32L << 20, file + ": allocated " + allocated + " bytes");
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
            return e;
        });
    }

    @Test
    void imagesAboveThePixelLimitAreRefusedBeforeDecoding() throws IOException {
        IOException jpeg = refused(gray28(), Files.write(dir.resolve("claims.jpg"), HostileImages.jpegClaiming(30000, 30000)));
        assertTrue(jpeg.getMessage().contains("30000x30000 = 900000000 pixels, more than the limit of 67108864"),
                jpeg.getMessage());
        refused(gray28(), Files.write(dir.resolve("claims.png"), HostileImages.pngClaiming(40000, 40000)));
        // Found by fuzzing: 274 bytes claiming 6291468x9 (under the pixel limit) made the PNG
        // decoder allocate three rows of 25 MB each.
        IOException wide = refused(gray28(), Files.write(dir.resolve("wide.png"), HostileImages.pngClaiming(6291468, 9)));
        assertTrue(wide.getMessage().contains("wider or taller than the limit of 65535"), wide.getMessage());
        // Found by fuzzing: a 58-byte BMP declaring 134 MB of embedded PNG data, which the JDK's
        // decoder allocated before reading.
        byte[] bmp = HostileImages.noise("bmp", 8, 8);
        java.nio.ByteBuffer.wrap(bmp).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(30, 5).putInt(34, 134218512);
        IOException embedded = refused(gray28(), Files.write(dir.resolve("embedded.bmp"), bmp));
        assertTrue(embedded.getMessage().contains("declares 134218512 bytes of compressed data"), embedded.getMessage());
        Path small = Files.write(dir.resolve("small.png"), HostileImages.noise("png", 100, 100));
        ImageInput strict = ImageInput.builder().shape(1, 28, 28).maxPixels(9999).build();
        assertTrue(refused(strict, small).getMessage().contains("more than the limit of 9999"));
        assertEquals(28 * 28, gray28().load(small).values().length);
    }

    @Test
    void damagedImagesAreRefusedNamingTheFile() throws IOException {
        for (String format : new String[] {"jpeg", "png", "gif", "bmp"}) {
            byte[] whole = HostileImages.noise(format, 64, 64);
            assertEquals(784, gray28().load(Files.write(dir.resolve("whole." + format), whole)).values().length);
            int refusedCuts = 0;
            int cuts = 0;
            for (int cut = 1; cut < whole.length; cut += Math.max(1, whole.length / 50)) {
                Path file = Files.write(dir.resolve("cut-" + cut + "." + format), Arrays.copyOf(whole, cut));
                cuts++;
                refused(gray28(), file);
                refusedCuts++;
            }
            assertEquals(cuts, refusedCuts, format);
        }
        // Only the JPEG end-of-image marker missing.
        byte[] jpeg = HostileImages.noise("jpeg", 64, 64);
        IOException eoi = refused(gray28(), Files.write(dir.resolve("no-eoi.jpg"), Arrays.copyOf(jpeg, jpeg.length - 2)));
        assertTrue(eoi.getMessage().contains("damaged JPEG image"), eoi.getMessage());
        IOException text = refused(gray28(), Files.writeString(dir.resolve("text.png"), "not an image"));
        assertTrue(text.getMessage().endsWith("not a PNG, JPEG, GIF or BMP image"), text.getMessage());
        assertThrows(NoSuchFileException.class, () -> gray28().load(dir.resolve("missing.png")));
    }

    @Test
    void builderRefusesBadSettingsNamingThem() {
        String noShape = assertThrows(IllegalArgumentException.class, () -> ImageInput.builder().build()).getMessage();
        assertTrue(noShape.contains("shape not set"), noShape);
        String channels = assertThrows(IllegalArgumentException.class,
                () -> ImageInput.builder().shape(2, 28, 28).build()).getMessage();
        assertTrue(channels.contains("got 2"), channels);
        String std = assertThrows(IllegalArgumentException.class, () -> ImageInput.builder().shape(1, 28, 28)
                .normalize(new double[] {0}, new double[] {1e-300}).build()).getMessage();
        assertTrue(std.contains("1.0E-300"), std);
        String perChannel = assertThrows(IllegalArgumentException.class, () -> ImageInput.builder().shape(3, 28, 28)
                .normalize(new double[] {0, 0}, new double[] {1, 1}).build()).getMessage();
        assertTrue(perChannel.contains("1 or 3 values"), perChannel);
        assertEquals(Shape.of(3, 32, 32), ImageInput.builder().shape(Shape.of(3, 32, 32)).build().shape());
    }
}
