package dev.receptive.cli;

import java.awt.Image;
import java.awt.image.BufferedImage;
import java.awt.image.PixelGrabber;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Turns a PNG or JPEG into a model input like MNIST's: grayscale in [0, 1], resized, and light on
 * dark (MNIST digits are white on black, so a dark-on-light image, mean &gt; 0.5, is inverted).
 */
final class Images {
    /** Pixels (height·width, row-major, in [0, 1]) and whether they were inverted. */
    record Gray(float[] pixels, boolean inverted) {
    }

    private Images() {
    }

    /**
     * @param invert null to invert when the mean is above 0.5; true or false to force it
     * @throws UsageException when the file is not an image Java can read
     */
    static Gray load(Path file, int height, int width, Boolean invert) throws IOException {
        BufferedImage source = ImageIO.read(file.toFile());
        if (source == null) {
            throw new UsageException(file + ": not a PNG or JPEG image");
        }
        // Grey as r = g = b in an RGB image, so that scaling does no colour-space conversion
        // (drawing into TYPE_BYTE_GRAY would apply a gamma curve and darken mid-tones).
        BufferedImage gray = new BufferedImage(source.getWidth(), source.getHeight(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < source.getHeight(); y++) {
            for (int x = 0; x < source.getWidth(); x++) {
                int v = Math.round(luminance(source.getRGB(x, y)) * 255);
                gray.setRGB(x, y, v << 16 | v << 8 | v);
            }
        }
        // PixelGrabber waits for the scaled pixels, which drawImage might deliver later.
        int[] rgb = new int[height * width];
        PixelGrabber grabber = new PixelGrabber(gray.getScaledInstance(width, height, Image.SCALE_AREA_AVERAGING),
                0, 0, width, height, rgb, 0, width);
        try {
            if (!grabber.grabPixels()) {
                throw new IOException(file + ": could not resize the image");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(file + ": interrupted while resizing", e);
        }
        float[] pixels = new float[height * width];
        double sum = 0;
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (rgb[i] & 0xFF) / 255f;
            sum += pixels[i];
        }
        boolean flip = invert != null ? invert : sum / pixels.length > 0.5;
        if (flip) {
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = 1 - pixels[i];
            }
        }
        return new Gray(pixels, flip);
    }

    /** Rec. 601 luma of an ARGB pixel in [0, 1], composited over white (transparent is background). */
    private static float luminance(int argb) {
        float a = (argb >>> 24) / 255f;
        float r = (argb >> 16 & 0xFF) / 255f;
        float g = (argb >> 8 & 0xFF) / 255f;
        float b = (argb & 0xFF) / 255f;
        float y = 0.299f * r + 0.587f * g + 0.114f * b;
        return a * y + (1 - a);
    }
}
