package dev.receptive.spark;

import dev.receptive.data.Normalization;
import dev.receptive.tensor.Shape;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/**
 * Turns the bytes of a PNG or JPEG (a row of Spark's binaryFile source) into one model input of
 * shape (C, H, W): pixel bytes p become (p / 255 − mean) / std exactly as the training data's
 * were. The image must already have the model's height and width; one channel is the image's grey
 * level (its own samples for an 8-bit grey image, else Rec. 601 luma composited over white), three
 * are its red, green and blue. Images are used as they are: no resizing, no inversion.
 */
final class ImageDecoder {
    private final int channels;
    private final int height;
    private final int width;
    private final float[] table = new float[256];

    ImageDecoder(Shape input, Normalization norm) {
        if (input.rank() != 3 || (input.dim(0) != 1 && input.dim(0) != 3)) {
            throw new IllegalArgumentException("receptive-spark: images can feed models whose input is (1, H, W) or"
                    + " (3, H, W), not " + input);
        }
        if (norm == null) {
            throw new IllegalArgumentException("receptive-spark: the model records no input normalization, so images"
                    + " cannot be fed as in training; save it with one (training records the data's)");
        }
        this.channels = input.dim(0);
        this.height = input.dim(1);
        this.width = input.dim(2);
        for (int p = 0; p < 256; p++) {
            table[p] = (float) ((p / 255.0 - norm.mean()) / norm.std());
        }
    }

    /**
     * Decodes {@code bytes} into dst[offset, offset + C·H·W).
     *
     * @param name what to call the image in errors (its path)
     * @throws IllegalArgumentException when the bytes are no PNG or JPEG, or the size differs
     */
    void decode(byte[] bytes, String name, float[] dst, int offset) {
        if (bytes == null) {
            throw new IllegalArgumentException("receptive-spark: " + name + ": the image column is null");
        }
        BufferedImage image;
        try {
            image = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException e) {
            throw new IllegalArgumentException("receptive-spark: " + name + ": not a readable image: " + e.getMessage(), e);
        }
        if (image == null) {
            throw new IllegalArgumentException("receptive-spark: " + name + ": not a PNG or JPEG image (" + bytes.length
                    + " bytes)");
        }
        if (image.getWidth() != width || image.getHeight() != height) {
            throw new IllegalArgumentException("receptive-spark: " + name + " is " + image.getWidth() + "×"
                    + image.getHeight() + " pixels but the model takes " + width + "×" + height
                    + "; resize the images first");
        }
        Raster raster = image.getRaster();
        boolean grey8 = raster.getNumBands() == 1 && raster.getSampleModel().getSampleSize(0) == 8;
        int plane = height * width;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int i = offset + y * width + x;
                if (channels == 1 && grey8) {
                    // The stored grey level; getRGB would pass it through a colour-space conversion.
                    dst[i] = table[raster.getSample(x, y, 0)];
                    continue;
                }
                int argb = image.getRGB(x, y);
                if (channels == 1) {
                    dst[i] = table[luma(argb)];
                } else {
                    dst[i] = table[argb >> 16 & 0xFF];
                    dst[i + plane] = table[argb >> 8 & 0xFF];
                    dst[i + 2 * plane] = table[argb & 0xFF];
                }
            }
        }
    }

    /** Rec. 601 luma of an ARGB pixel composited over white, as a byte. */
    private static int luma(int argb) {
        double a = (argb >>> 24) / 255.0;
        double y = 0.299 * (argb >> 16 & 0xFF) + 0.587 * (argb >> 8 & 0xFF) + 0.114 * (argb & 0xFF);
        return (int) Math.round(a * y + (1 - a) * 255);
    }
}
