package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.data.ImageInput;
import dev.receptive.data.Normalization;
import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Spark reads images as the command line and image folders do: what {@link SparkPredictor} does
 * with each row's bytes gives, for every image of test-data/image-kinds/ (8 × 4 pixels, one of
 * each kind: grey, 16-bit, alpha, palettes with transparency, JPEG; see
 * scripts/make-image-kinds-fixture.java), exactly what {@link ImageInput} gives for the file. No
 * Spark session is needed.
 */
class SparkImagesTest {
    private static final Path ROOT = Path.of("test-data", "image-kinds");
    private static final Normalization NORM = new Normalization(0.2, 0.3);

    private static List<Path> images() throws IOException {
        try (Stream<Path> files = Files.walk(ROOT)) {
            return files.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    void everyKindOfImageGivesWhatTheFileGives() throws IOException {
        List<Path> images = images();
        assertEquals(11, images.size());
        for (int channels : new int[] {1, 3}) {
            Shape shape = Shape.of(channels, 4, 8);
            ImageInput spark = SparkPredictor.imageInput(shape, NORM);
            // As the command line's predict reads a file for an RGB model or with --no-invert.
            ImageInput file = ImageInput.builder().shape(shape).normalize(NORM).build();
            for (Path image : images) {
                assertArrayEquals(file.load(image).values(),
                        SparkPredictor.decodeImage(spark, Files.readAllBytes(image), image.toString()),
                        image + " at " + shape);
            }
        }
    }

    @Test
    void transparentColourIsCompositedOverWhiteAndNotRounded() throws IOException {
        // Pixel (0, 0) of rgba.png is (200, 100, 50) at alpha 128: over white (227.4, 177.2, 152.1).
        double t = 128 / 255.0;
        double r = t * 200 + (1 - t) * 255;
        double g = t * 100 + (1 - t) * 255;
        double b = t * 50 + (1 - t) * 255;
        double luma = 0.299 * r + 0.587 * g + 0.114 * b; // 189.34: Spark used to round it to 189
        byte[] rgba = Files.readAllBytes(ROOT.resolve("png/rgba.png"));
        float[] grey = SparkPredictor.decodeImage(SparkPredictor.imageInput(Shape.of(1, 4, 8), NORM), rgba, "rgba");
        assertEquals((float) ((luma / 255 - 0.2) / 0.3), grey[0], 1e-6f);
        float[] rgb = SparkPredictor.decodeImage(SparkPredictor.imageInput(Shape.of(3, 4, 8), NORM), rgba, "rgba");
        assertEquals((float) ((r / 255 - 0.2) / 0.3), rgb[0], 1e-6f);
        assertEquals((float) ((g / 255 - 0.2) / 0.3), rgb[32], 1e-6f);
        assertEquals((float) ((b / 255 - 0.2) / 0.3), rgb[64], 1e-6f);
    }

    @Test
    void anotherSizeOrADamagedImageIsNamed() throws IOException {
        byte[] png = Files.readAllBytes(ROOT.resolve("png/grey8.png"));
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> SparkPredictor.decodeImage(
                SparkPredictor.imageInput(Shape.of(1, 28, 28), NORM), png, "file:/data/a.png"));
        assertEquals("receptive-spark: file:/data/a.png is 8×4 pixels but the model takes 28×28; resize the images"
                + " first", size.getMessage());
        IllegalArgumentException cut = assertThrows(IllegalArgumentException.class, () -> SparkPredictor.decodeImage(
                SparkPredictor.imageInput(Shape.of(1, 4, 8), NORM), Arrays.copyOf(png, png.length / 2),
                "file:/data/a.png"));
        assertTrue(cut.getMessage().startsWith("receptive-spark: file:/data/a.png: "), cut.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SparkPredictor.imageInput(Shape.of(1, 4, 8), null))
                .getMessage().contains("records no input normalization"));
    }
}
