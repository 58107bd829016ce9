package dev.receptive.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.tensor.Shape;
import dev.receptive.testing.Close;
import dev.receptive.testing.HostileImages;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One decoder behind every entry point. test-data/image-kinds/ (written by
 * scripts/make-image-kinds-fixture.java) holds one 8 × 4 image of each kind: 8- and 16-bit grey,
 * grey with alpha, 8- and 16-bit RGB, RGBA, palettes with transparent entries, BMP, grey and RGB
 * JPEG. Each must give the same input from a file, from bytes, from a stream and in an image
 * folder, and the pixels the script sets by hand must give what the formulas give here.
 */
class ImageKindsTest {
    private static final Path ROOT = Path.of("test-data", "image-kinds");
    private static final Normalization NORM = new Normalization(0.2, 0.3);

    @Test
    void everyEntryPointGivesTheSameInput() throws IOException {
        ImageFolder folder = ImageFolder.scan(ROOT);
        assertEquals(List.of("bmp", "gif", "jpeg", "png"), folder.classNames());
        assertEquals(11, folder.size());
        for (Shape shape : List.of(Shape.of(1, 4, 8), Shape.of(3, 4, 8), Shape.of(1, 3, 5), Shape.of(3, 3, 5))) {
            Dataset fromFolder = folder.load(shape, NORM);
            ImageInput input = ImageInput.builder().shape(shape).normalize(NORM).build();
            boolean native8x4 = shape.dim(1) == 4 && shape.dim(2) == 8;
            ImageInput exact = ImageInput.builder().shape(shape).normalize(NORM).resize(false).build();
            for (int i = 0; i < folder.size(); i++) {
                Path file = folder.files().get(i);
                String what = file + " at " + shape;
                byte[] bytes = Files.readAllBytes(file);
                float[] fromFile = input.load(file).values();
                assertEquals(shape.size(), fromFile.length, what);
                assertArrayEquals(fromFile, input.load(bytes, "upload").values(), what + " from bytes");
                assertArrayEquals(fromFile, input.load(new ByteArrayInputStream(bytes), "stream").values(),
                        what + " from a stream");
                float[] item = new float[shape.size()];
                fromFolder.copyImage(i, item, 0);
                assertArrayEquals(fromFile, item, what + " in a folder");
                if (native8x4) {
                    assertArrayEquals(fromFile, exact.load(bytes, "upload").values(), what + " without resizing");
                }
            }
        }
    }

    /** A hand-set pixel: its colour on [0, 255] composited over white, and how close a lossy format comes. */
    private record Pixel(String file, int x, int y, double r, double g, double b, double tolerance) {
        Pixel(String file, int x, int y, double r, double g, double b) {
            this(file, x, y, r, g, b, 0);
        }

        Pixel(String file, int x, int y, double grey) {
            this(file, x, y, grey, grey, grey, 0);
        }
    }

    /** v at alpha a (both on [0, 255]) over a white background. */
    private static double over(double v, double a) {
        return a / 255 * v + (1 - a / 255) * 255;
    }

    private static double luma(Pixel p) {
        return 0.299 * p.r + 0.587 * p.g + 0.114 * p.b;
    }

    @Test
    void handSetPixelsGiveTheFormulasValues() throws IOException {
        double s16 = 255.0 / 65535; // a 16-bit sample on the 8-bit scale
        List<Pixel> pixels = List.of(
                new Pixel("png/grey8.png", 0, 0, 7),
                new Pixel("png/grey8.png", 7, 3, (7 * 40 + 3 * 13 + 7) % 256),
                new Pixel("png/grey16.png", 0, 0, 4660 * s16),
                new Pixel("png/grey-alpha.png", 0, 0, over(60, 128)),
                new Pixel("png/rgb.png", 0, 0, 200, 100, 50),
                new Pixel("png/rgb16.png", 0, 0, 1000 * s16, 30000 * s16, 65535 * s16),
                new Pixel("png/rgba.png", 0, 0, over(200, 128), over(100, 128), over(50, 128)),
                new Pixel("png/rgba.png", 1, 0, 255), // fully transparent
                new Pixel("png/palette.png", 0, 0, 255), // the transparent entry
                new Pixel("png/palette.png", 1, 0, 200, 100, 50),
                new Pixel("png/palette.png", 2, 0, over(0, 128), over(128, 128), over(255, 128)),
                new Pixel("gif/palette.gif", 0, 0, 255),
                new Pixel("gif/palette.gif", 2, 0, 0, 128, 255),
                new Pixel("bmp/rgb.bmp", 0, 0, 200, 100, 50),
                // JPEG is lossy and the JDK's encoder halves the colour resolution: the script's
                // (200, 100, 50) comes back as (192, 102, 49) (also in another decoder), grey 7 as 8.
                new Pixel("jpeg/rgb.jpg", 0, 0, 200, 100, 50, 10),
                new Pixel("jpeg/grey.jpg", 0, 0, 7, 7, 7, 2));
        for (Pixel p : pixels) {
            Path file = ROOT.resolve(p.file);
            float[] grey = ImageInput.builder().shape(1, 4, 8).build().load(file).values();
            float[] rgb = ImageInput.builder().shape(3, 4, 8).build().load(file).values();
            String what = p.file + " (" + p.x + ", " + p.y + ")";
            int i = p.y * 8 + p.x;
            double atol = 1e-6 + p.tolerance / 255;
            Close.assertClose(what + " grey", luma(p) / 255, grey[i], atol, 0);
            Close.assertClose(what + " red", p.r / 255, rgb[i], atol, 0);
            Close.assertClose(what + " green", p.g / 255, rgb[32 + i], atol, 0);
            Close.assertClose(what + " blue", p.b / 255, rgb[64 + i], atol, 0);
        }
        // Spelt out: (200, 100, 50) at alpha 128 over white is (227.4, 177.2, 152.1), whose luma is 189.3.
        float[] rgba = ImageInput.builder().shape(1, 4, 8).build().load(ROOT.resolve("png/rgba.png")).values();
        assertEquals(189.3, rgba[0] * 255, 0.05);
        // Grey samples are taken as stored: 8-bit grey through a colour-space conversion would move them.
        float[] grey8 = ImageInput.builder().shape(1, 4, 8).build().load(ROOT.resolve("png/grey8.png")).values();
        for (int i = 0; i < 32; i++) {
            assertEquals((i % 8 * 40 + i / 8 * 13 + 7) % 256 / 255f, grey8[i], "grey8 pixel " + i);
        }
        // Normalized as (v / 255 - mean) / std per channel.
        float[] normalized = ImageInput.builder().shape(3, 4, 8).normalize(new double[] {0.5, 0.25, 0},
                new double[] {0.5, 0.25, 2}).build().load(ROOT.resolve("png/rgb.png")).values();
        Close.assertClose("normalized", new double[] {(200 / 255.0 - 0.5) / 0.5, (100 / 255.0 - 0.25) / 0.25, 50 / 255.0 / 2},
                new float[] {normalized[0], normalized[32], normalized[64]}, 1e-6, 0);
    }

    @Test
    void theSamePixelsInAnotherFormatGiveTheSameInput() throws IOException {
        ImageInput input = ImageInput.builder().shape(3, 4, 8).build();
        assertArrayEquals(input.load(ROOT.resolve("png/rgb.png")).values(), input.load(ROOT.resolve("bmp/rgb.bmp")).values());
    }

    @Test
    void errorsFromBytesAndStreamsNameTheGivenName() throws IOException {
        ImageInput input = ImageInput.builder().shape(1, 4, 8).build();
        String tmp = System.getProperty("java.io.tmpdir");
        IOException text = assertThrows(IOException.class, () -> input.load("not an image".getBytes(), "upload 7"));
        assertEquals("upload 7: not a PNG, JPEG, GIF or BMP image", text.getMessage());
        byte[] png = Files.readAllBytes(ROOT.resolve("png/rgb.png"));
        for (int cut : new int[] {20, 40, png.length / 2, png.length - 30}) {
            IOException e = assertThrows(IOException.class,
                    () -> input.load(Arrays.copyOf(png, cut), "upload 7"), "cut at " + cut);
            assertTrue(e.getMessage().startsWith("upload 7: "), e.getMessage());
            assertFalse(e.getMessage().contains(tmp), e.getMessage());
        }
        IOException truncated = assertThrows(IOException.class,
                () -> input.load(new ByteArrayInputStream(Arrays.copyOf(png, png.length / 2)), "stream 3"));
        assertTrue(truncated.getMessage().startsWith("stream 3: "), truncated.getMessage());
        InputStream broken = new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("connection reset");
            }
        };
        assertEquals("stream 3: connection reset",
                assertThrows(IOException.class, () -> input.load(broken, "stream 3")).getMessage());
    }

    @Test
    void bytesGetTheSizeChecksBeforeDecoding() {
        ImageInput input = ImageInput.builder().shape(1, 28, 28).build();
        IOException big = assertThrows(IOException.class, () -> input.load(HostileImages.pngClaiming(40000, 40000), "u"));
        assertEquals("u: PNG image of 40000x40000 = 1600000000 pixels, more than the limit of 67108864", big.getMessage());
        IOException wide = assertThrows(IOException.class, () -> input.load(HostileImages.pngClaiming(6291468, 9), "u"));
        assertTrue(wide.getMessage().contains("wider or taller than the limit of 65535"), wide.getMessage());
        byte[] bmp = HostileImages.noise("bmp", 8, 8);
        ByteBuffer.wrap(bmp).order(ByteOrder.LITTLE_ENDIAN).putInt(30, 5).putInt(34, 134218512);
        IOException embedded = assertThrows(IOException.class, () -> input.load(bmp, "u"));
        assertEquals("u: damaged BMP image: the header declares 134218512 bytes of compressed data, but the file has "
                + bmp.length, embedded.getMessage());
    }

    @Test
    void withoutResizingAnotherSizeIsRefusedFromTheHeader() throws IOException {
        ImageInput exact = ImageInput.builder().shape(1, 4, 4).resize(false).build();
        byte[] png = Files.readAllBytes(ROOT.resolve("png/grey8.png"));
        String expected = "u is 8×4 pixels but the model takes 4×4; resize the images first";
        assertEquals(expected, assertThrows(IOException.class, () -> exact.load(png, "u")).getMessage());
        // Cut before its pixel data the image could not be decoded: refused for its size, it was not.
        assertEquals(expected, assertThrows(IOException.class, () -> exact.load(Arrays.copyOf(png, 40), "u")).getMessage());
        assertEquals(4 * 8, ImageInput.builder().shape(1, 4, 8).resize(false).build().load(png, "u").values().length);
    }

    /**
     * No file is written on the way: with ImageIO's cache folder gone, its own stream factory
     * (which caches in a temporary file by default) refuses to work, and bytes and streams still decode.
     */
    @Test
    void bytesAndStreamsNeverTouchTheFileSystem(@TempDir Path dir) throws IOException {
        byte[] png = Files.readAllBytes(ROOT.resolve("png/rgba.png"));
        File before = ImageIO.getCacheDirectory();
        boolean cached = ImageIO.getUseCache();
        Path gone = Files.createDirectory(dir.resolve("cache"));
        try {
            ImageIO.setUseCache(true);
            ImageIO.setCacheDirectory(gone.toFile());
            Files.delete(gone);
            assertThrows(IllegalArgumentException.class, () -> ImageIO.read(new ByteArrayInputStream(png)));
            ImageInput input = ImageInput.builder().shape(1, 4, 8).build();
            assertEquals(32, input.load(png, "u").values().length);
            assertEquals(32, input.load(new ByteArrayInputStream(png), "u").values().length);
        } finally {
            ImageIO.setUseCache(cached);
            ImageIO.setCacheDirectory(before);
        }
    }
}
