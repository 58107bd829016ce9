package dev.receptive.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.tensor.Shape;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image-folder fixture is 36 test images of fashion-mnist-1k written as gray PNGs named
 * after their index there: loading the folder must give those images' exact pixels, in the
 * fixture's labels' classes.
 */
class ImageFolderTest {
    private static final Path FIXTURE = Path.of("test-data", "image-folder");
    private static Dataset pixels; // the IDX fixture, bytes / 255

    @TempDir
    Path dir;

    @BeforeAll
    static void load() throws IOException {
        pixels = FashionMnist.load(Path.of("test-data", "fashion-mnist-1k"), Split.TEST, Normalization.UNIT_RANGE);
    }

    private static int index(Path file) {
        String name = file.getFileName().toString();
        return Integer.parseInt(name.substring(0, name.indexOf('.')));
    }

    @Test
    void scanListsSortedClassesAndFiles() throws IOException {
        ImageFolder folder = ImageFolder.scan(FIXTURE);
        assertEquals(List.of("bag", "sneaker", "trouser"), folder.classNames());
        assertEquals(36, folder.size());
        assertEquals(List.of(12, 12, 12), folder.classCounts());
        // Each file's class is the fixture label of its index (bag 8, sneaker 7, trouser 1).
        int[] fashionLabel = {8, 7, 1};
        for (int i = 0; i < folder.size(); i++) {
            Path f = folder.files().get(i);
            assertEquals(f.getParent().getFileName().toString(), folder.classNames().get(folder.label(i)));
            assertEquals(fashionLabel[folder.label(i)], pixels.label(index(f)), f.toString());
        }
        List<Path> sorted = new ArrayList<>(folder.files());
        sorted.sort(null);
        assertEquals(sorted, folder.files());
    }

    @Test
    void loadGivesTheDatasetPixelsExactly() throws IOException {
        ImageFolder folder = ImageFolder.scan(FIXTURE);
        Dataset d = folder.load(Shape.of(1, 28, 28), Normalization.UNIT_RANGE);
        assertEquals(Shape.of(1, 28, 28), d.itemShape());
        float[] got = new float[784];
        float[] want = new float[784];
        for (int i = 0; i < d.size(); i++) {
            d.copyImage(i, got, 0);
            pixels.copyImage(index(folder.files().get(i)), want, 0);
            assertEquals(Arrays.toString(want), Arrays.toString(got), folder.files().get(i).toString());
            assertEquals(folder.label(i), d.label(i));
        }
    }

    @Test
    void loadNormalizesByTheImagesOwnStatistics() throws IOException {
        ImageFolder folder = ImageFolder.scan(FIXTURE);
        Dataset d = folder.load(Shape.of(1, 28, 28));
        // The naive two-pass mean and standard deviation of the same images' pixels.
        double sum = 0;
        float[] v = new float[784];
        for (Path f : folder.files()) {
            pixels.copyImage(index(f), v, 0);
            for (float x : v) {
                sum += x;
            }
        }
        double n = 784.0 * folder.size();
        double mean = sum / n;
        double squares = 0;
        for (Path f : folder.files()) {
            pixels.copyImage(index(f), v, 0);
            for (float x : v) {
                squares += (x - mean) * (x - mean);
            }
        }
        double std = Math.sqrt(squares / n);
        assertEquals(mean, d.normalization().mean(), 1e-9);
        assertEquals(std, d.normalization().std(), 1e-9);
        float[] got = new float[784];
        d.copyImage(5, got, 0);
        pixels.copyImage(index(folder.files().get(5)), v, 0);
        for (int p = 0; p < 784; p++) {
            assertEquals((v[p] - mean) / std, got[p], 1e-5, "pixel " + p);
        }
        // The normalized values have mean 0 and variance 1.
        double m = 0;
        for (int i = 0; i < d.size(); i++) {
            d.copyImage(i, got, 0);
            for (float x : got) {
                m += x;
            }
        }
        assertEquals(0, m / n, 1e-5);
    }

    @Test
    void rgbAndResizedLoads() throws IOException {
        ImageFolder folder = ImageFolder.scan(FIXTURE);
        Dataset rgb = folder.load(Shape.of(3, 28, 28), Normalization.UNIT_RANGE);
        float[] three = new float[3 * 784];
        float[] want = new float[784];
        rgb.copyImage(0, three, 0);
        pixels.copyImage(index(folder.files().get(0)), want, 0);
        for (int c = 0; c < 3; c++) {
            assertEquals(Arrays.toString(want), Arrays.toString(Arrays.copyOfRange(three, c * 784, (c + 1) * 784)));
        }
        // 28 → 14 by area averaging: each output pixel is the mean of a 2 × 2 block.
        Dataset half = folder.load(Shape.of(1, 14, 14), Normalization.UNIT_RANGE);
        float[] small = new float[196];
        half.copyImage(0, small, 0);
        for (int y = 0; y < 14; y++) {
            for (int x = 0; x < 14; x++) {
                double mean = (want[2 * y * 28 + 2 * x] + want[2 * y * 28 + 2 * x + 1] + want[(2 * y + 1) * 28 + 2 * x]
                        + want[(2 * y + 1) * 28 + 2 * x + 1]) / 4.0;
                assertEquals(mean, small[y * 14 + x], 1e-6, "(" + y + ", " + x + ")");
            }
        }
    }

    @Test
    void splitIsPerClassDisjointAndSeeded() throws IOException {
        ImageFolder folder = ImageFolder.scan(FIXTURE);
        ImageFolder.Parts parts = folder.split(0.25, 7);
        assertEquals(27, parts.train().size());
        assertEquals(9, parts.validation().size());
        assertEquals(List.of(9, 9, 9), parts.train().classCounts());
        assertEquals(List.of(3, 3, 3), parts.validation().classCounts());
        Set<Path> all = new HashSet<>(parts.train().files());
        all.addAll(parts.validation().files());
        assertEquals(new HashSet<>(folder.files()), all);
        for (int i = 0; i < parts.validation().size(); i++) {
            Path f = parts.validation().files().get(i);
            assertEquals(folder.label(folder.files().indexOf(f)), parts.validation().label(i));
        }
        assertEquals(parts.validation().files(), folder.split(0.25, 7).validation().files());
        assertNotEquals(parts.validation().files(), folder.split(0.25, 8).validation().files());
        // Every class keeps at least one file on each side.
        assertEquals(List.of(1, 1, 1), folder.split(0.01, 1).validation().classCounts());
        assertEquals(List.of(1, 1, 1), folder.split(0.99, 1).train().classCounts());
        assertThrows(IllegalArgumentException.class, () -> folder.split(0, 1));
        assertThrows(IllegalArgumentException.class, () -> folder.split(1, 1));
        assertThrows(IllegalArgumentException.class, () -> folder.split(Double.NaN, 1));
    }

    /** A copy of the fixture in dir/name, for breaking. */
    private Path copy(String name) throws IOException {
        Path root = dir.resolve(name);
        try (Stream<Path> walk = Files.walk(FIXTURE)) {
            for (Path p : walk.toList()) {
                Path target = root.resolve(FIXTURE.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return root;
    }

    @Test
    void otherAndHiddenFilesAreSkippedNestedImagesKept() throws IOException {
        Path root = copy("extras");
        Files.writeString(root.resolve("bag").resolve("notes.txt"), "not an image");
        Files.writeString(root.resolve("bag").resolve(".DS_Store"), "junk");
        Files.createDirectories(root.resolve(".cache").resolve("x"));
        Files.copy(root.resolve("bag").resolve("0018.png"), root.resolve(".cache").resolve("x").resolve("a.png"));
        Path nested = Files.createDirectories(root.resolve("trouser").resolve("more"));
        Files.copy(root.resolve("trouser").resolve("0002.png"), nested.resolve("again.PNG"));
        ImageFolder folder = ImageFolder.scan(root);
        assertEquals(List.of("bag", "sneaker", "trouser"), folder.classNames());
        assertEquals(List.of(12, 12, 13), folder.classCounts());
    }

    @Test
    void badFoldersAreRefusedNamingThem() throws IOException {
        IOException missing = assertThrows(IOException.class, () -> ImageFolder.scan(dir.resolve("nope")));
        assertTrue(missing.getMessage().contains("nope"), missing.getMessage());
        Path flat = Files.createDirectories(dir.resolve("flat"));
        Files.copy(FIXTURE.resolve("bag").resolve("0018.png"), flat.resolve("a.png"));
        IOException noClasses = assertThrows(IOException.class, () -> ImageFolder.scan(flat));
        assertTrue(noClasses.getMessage().contains("no class folders"), noClasses.getMessage());
        Path root = copy("empty-class");
        Path empty = Files.createDirectories(root.resolve("coat"));
        Files.writeString(empty.resolve("readme.txt"), "no images here");
        IOException noImages = assertThrows(IOException.class, () -> ImageFolder.scan(root));
        assertTrue(noImages.getMessage().contains(empty.toString()), noImages.getMessage());
    }

    @Test
    void aDamagedImageIsAnErrorNamingIt() throws IOException {
        Path root = copy("damaged");
        Path png = root.resolve("sneaker").resolve("0009.png");
        byte[] bytes = Files.readAllBytes(png);
        Files.write(png, Arrays.copyOf(bytes, bytes.length / 2));
        ImageFolder folder = ImageFolder.scan(root);
        IOException e = assertThrows(IOException.class, () -> folder.load(Shape.of(1, 28, 28)));
        assertTrue(e.getMessage().contains(png.toString()), e.getMessage());
        Files.writeString(png, "this is text named .png");
        IOException text = assertThrows(IOException.class, () -> folder.load(Shape.of(1, 28, 28)));
        assertTrue(text.getMessage().contains(png.toString()), text.getMessage());
    }

    @Test
    void sizesBeyondTheHeapAreRefusedBeforeAllocating() throws IOException {
        ImageFolder folder = ImageFolder.scan(FIXTURE);
        long heap = Runtime.getRuntime().maxMemory();
        // 36 RGB images whose floats alone exceed the heap (or 2^31 values): refused up front.
        int side = (int) Math.min(4096, Math.ceil(Math.sqrt(heap / (36.0 * 3 * 4))) + 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> folder.load(Shape.of(3, side, side)));
        assertTrue(e.getMessage().contains(FIXTURE.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("-Xmx") || e.getMessage().contains("2^31"), e.getMessage());
    }

    @Test
    void modelClassesLabelASubsetFolder() throws IOException {
        Path root = Files.createDirectories(dir.resolve("two"));
        for (String c : List.of("trouser", "bag")) {
            Path d = Files.createDirectories(root.resolve(c));
            try (Stream<Path> files = Files.list(FIXTURE.resolve(c))) {
                for (Path f : files.toList()) {
                    Files.copy(f, d.resolve(f.getFileName()));
                }
            }
        }
        List<String> model = List.of("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
                "bag", "ankle boot");
        ImageFolder folder = ImageFolder.scan(root, model);
        assertEquals(model, folder.classNames());
        for (int i = 0; i < folder.size(); i++) {
            assertEquals(pixels.label(index(folder.files().get(i))), folder.label(i));
        }
        Files.createDirectories(root.resolve("hat"));
        IOException e = assertThrows(IOException.class, () -> ImageFolder.scan(root, model));
        assertTrue(e.getMessage().contains("hat"), e.getMessage());
    }

    @Test
    void storedChannelsReadsTheHeader() throws IOException {
        assertEquals(1, ImageFolder.scan(FIXTURE).storedChannels());
        Path root = copy("colour");
        BufferedImage rgb = new BufferedImage(5, 4, BufferedImage.TYPE_INT_RGB);
        rgb.setRGB(1, 1, 0xFF2040);
        ImageIO.write(rgb, "png", root.resolve("bag").resolve("zz-colour.png").toFile());
        assertEquals(3, ImageFolder.scan(root).storedChannels());
        assertEquals(3, ImageInput.storedChannels(root.resolve("bag").resolve("zz-colour.png")));
    }
}
