package dev.receptive.data;

import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import javax.imageio.ImageIO;

/**
 * Turns an image (PNG, JPEG, GIF, BMP: what {@link ImageIO} reads; a file, bytes in memory or a
 * stream) into a model's input: (C, H, W) floats, grayscale (C = 1) or RGB (C = 3), resized to
 * H × W by area averaging (or refused at another size, see {@link Builder#resize}), optionally
 * inverted, and normalized per channel as {@code (v / 255 − mean[c]) / std[c]} with v the 8-bit
 * value (what torchvision's {@code ToTensor} then {@code Normalize(mean, std)} does). Every
 * caller that feeds images to a model reads them here (prediction, image folders, Spark), so
 * the same image gives the same input everywhere.
 *
 * <pre>{@code
 * ImageInput input = ImageInput.builder().shape(1, 28, 28).normalize(Normalization.MNIST).build();
 * float[] x = input.load(Path.of("digit.png")).values();   // (1, 28, 28)
 * float[] y = input.load(uploaded, "upload 7").values();   // the same from bytes
 * }</pre>
 *
 * <p>Safe on images from anywhere: the dimensions are read from the header first and an image
 * with more than {@link #maxPixels()} pixels ({@value #DEFAULT_MAX_PIXELS} by default, 8192 ×
 * 8192), a side longer than {@value #MAX_SIDE} or a compressed BMP declaring more data than
 * the file holds is refused before it is decoded; large images are decoded subsampled (at most four
 * source pixels per output pixel in each direction survive), so memory stays bounded by the
 * output size; a warning of the decoder (a truncated JPEG's "premature end", a damaged PNG
 * chunk) is an error, not a half-grey picture. Every error names the file, or the name given
 * with the bytes. One cost is outside the Java heap: the JDK's JPEG decoder keeps a progressive
 * JPEG's coefficients for the whole image in native memory, about 200 MB for a file claiming
 * 8192 × 8192 (measured: 193 MB for 0.2 s before a truncated one was refused); lower
 * {@link Builder#maxPixels} where memory is tight.
 *
 * <p>Gray and RGB images (8- or 16-bit PNG, JPEG, BMP) are read through their raster samples,
 * scaled from their bit depth, not through {@code getRGB}, which would pass gray through a
 * colour-space conversion and change mid-tones, and round 16 bits to 8: a gray PNG written from
 * a dataset image gives back exactly the dataset's values. Palette images (GIF, indexed PNG)
 * take their palette's colours. Transparency, of a palette entry or an alpha channel, is
 * composited over white; colour becomes gray as Rec. 601 luma (0.299 R + 0.587 G + 0.114 B).
 * Instances are immutable and may be shared between threads.
 */
public final class ImageInput {
    /** The default limit on width × height: 8192 × 8192 pixels. */
    public static final long DEFAULT_MAX_PIXELS = 1L << 26;
    /** The largest width or height accepted (JPEG's own limit). */
    public static final int MAX_SIDE = 65535;

    /** When to invert an image (v → 255 − v) before normalizing. */
    public enum Invert {
        /**
         * When the image is mostly light (mean above half): MNIST-like data is light on dark,
         * while a digit drawn on paper is dark on light.
         */
        AUTO,
        /** Always. */
        ALWAYS,
        /** Never. */
        NEVER
    }

    /**
     * One loaded image.
     *
     * @param values the model input (C, H, W), row-major, normalized
     * @param inverted whether the image was inverted
     * @param sourceWidth the width of the file's image before resizing
     * @param sourceHeight the height of the file's image before resizing
     */
    public record Loaded(float[] values, boolean inverted, int sourceWidth, int sourceHeight) {
    }

    private final int channels;
    private final int height;
    private final int width;
    private final double[] mean;
    private final double[] std;
    private final Invert invert;
    private final long maxPixels;
    private final ImageDecoder decoder;

    private ImageInput(Builder b) {
        this.channels = b.channels;
        this.height = b.height;
        this.width = b.width;
        this.mean = b.mean.length == 1 ? fill(b.mean[0]) : b.mean.clone();
        this.std = b.std.length == 1 ? fill(b.std[0]) : b.std.clone();
        this.invert = b.invert;
        this.maxPixels = b.maxPixels;
        this.decoder = new ImageDecoder(channels, height, width, b.resize, maxPixels);
    }

    private double[] fill(double v) {
        double[] a = new double[channels];
        Arrays.fill(a, v);
        return a;
    }

    /** {@return a new builder; {@link Builder#shape} is required, the rest optional} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the shape of {@link Loaded#values()}: (C, H, W)} */
    public Shape shape() {
        return Shape.of(channels, height, width);
    }

    /** {@return the largest width × height accepted, in pixels} */
    public long maxPixels() {
        return maxPixels;
    }

    /**
     * Reads, resizes, inverts and normalizes one image file.
     *
     * @param file the image file
     * @return the model input and how it was made
     * @throws IOException naming the file: it does not exist, is not an image format Java reads,
     *     is larger than {@link #maxPixels()}, or is damaged or truncated (any decoder warning)
     */
    public Loaded load(Path file) throws IOException {
        return prepare(decoder.decode(new ImageDecoder.FileSource(file)));
    }

    /**
     * As {@link #load(Path)}, from an image's bytes in memory (an upload, a row of Spark's
     * {@code binaryFile} source): no file is written.
     *
     * @param image the encoded image, not modified
     * @param name what errors call the image (its path or URI, an upload's name), never a temporary file
     * @return the model input and how it was made
     * @throws IOException whose message begins with name, for the same reasons as {@link #load(Path)}
     */
    public Loaded load(byte[] image, String name) throws IOException {
        Objects.requireNonNull(image, "image");
        return prepare(decoder.decode(new ImageDecoder.ByteSource(image, Objects.requireNonNull(name, "name"))));
    }

    /**
     * As {@link #load(byte[], String)}, reading {@code in} to its end first. The bytes are held in
     * memory: bound the stream's length where it comes from untrusted parties (a request size limit).
     *
     * @param in the encoded image; read to its end, not closed
     * @param name what errors call the image
     * @return the model input and how it was made
     * @throws IOException whose message begins with name: the stream failed, or as {@link #load(Path)}
     */
    public Loaded load(InputStream in, String name) throws IOException {
        Objects.requireNonNull(name, "name");
        byte[] image;
        try {
            image = in.readAllBytes();
        } catch (IOException e) {
            throw new IOException(name + ": " + ImageDecoder.describe(e), e);
        }
        return load(image, name);
    }

    private Loaded prepare(ImageDecoder.Decoded d) {
        double[] resized = resize(d.planes(), channels, d.width(), d.height(), width, height);
        boolean flip = switch (invert) {
            case ALWAYS -> true;
            case NEVER -> false;
            case AUTO -> Arrays.stream(resized).sum() / resized.length > 127.5;
        };
        float[] values = new float[resized.length];
        int plane = height * width;
        for (int c = 0; c < channels; c++) {
            for (int i = c * plane; i < (c + 1) * plane; i++) {
                double v = flip ? 255 - resized[i] : resized[i];
                values[i] = (float) ((v / 255.0 - mean[c]) / std[c]);
            }
        }
        return new Loaded(values, flip, d.sourceWidth(), d.sourceHeight());
    }

    /**
     * How many channels the file stores, from its header alone (nothing is decoded): 1 for a
     * grayscale image (gray PNG, one-component JPEG), 3 for anything else (colour, palette).
     *
     * @param file the image file
     * @return 1 or 3
     * @throws IOException naming the file: it cannot be read or is not a PNG, JPEG, GIF or BMP image
     */
    public static int storedChannels(Path file) throws IOException {
        return ImageDecoder.storedChannels(new ImageDecoder.FileSource(file));
    }

    /**
     * Area-average resampling of C planes from (h, w) to (outH, outW): each output pixel is the
     * mean of the source area it covers, partly covered source pixels weighted by the part
     * covered. The same size is the identity.
     */
    static double[] resize(double[] src, int c, int w, int h, int outW, int outH) {
        if (w == outW && h == outH) {
            return src;
        }
        double[] out = new double[c * outH * outW];
        double[] rows = new double[outH * w]; // one plane resized vertically
        for (int ch = 0; ch < c; ch++) {
            Arrays.fill(rows, 0);
            for (int oy = 0; oy < outH; oy++) {
                double y0 = (double) oy * h / outH;
                double y1 = (double) (oy + 1) * h / outH;
                for (int y = (int) y0; y < Math.min(h, Math.ceil(y1)); y++) {
                    double weight = (Math.min(y1, y + 1) - Math.max(y0, y)) / (y1 - y0);
                    for (int x = 0; x < w; x++) {
                        rows[oy * w + x] += weight * src[(ch * h + y) * w + x];
                    }
                }
            }
            for (int ox = 0; ox < outW; ox++) {
                double x0 = (double) ox * w / outW;
                double x1 = (double) (ox + 1) * w / outW;
                for (int x = (int) x0; x < Math.min(w, Math.ceil(x1)); x++) {
                    double weight = (Math.min(x1, x + 1) - Math.max(x0, x)) / (x1 - x0);
                    for (int oy = 0; oy < outH; oy++) {
                        out[(ch * outH + oy) * outW + ox] += weight * rows[oy * w + x];
                    }
                }
            }
        }
        return out;
    }

    /** Builds an {@link ImageInput}: {@code shape} required; normalization, inversion and the pixel limit optional. */
    public static final class Builder {
        private int channels;
        private int height;
        private int width;
        private double[] mean = {0};
        private double[] std = {1};
        private Invert invert = Invert.NEVER;
        private long maxPixels = DEFAULT_MAX_PIXELS;
        private boolean resize = true;

        private Builder() {
        }

        /**
         * The output (C, H, W). Required; checked by {@link #build()}.
         *
         * @param channels 1 (grayscale) or 3 (RGB)
         * @param height H ≥ 1
         * @param width W ≥ 1
         * @return this builder
         */
        public Builder shape(int channels, int height, int width) {
            this.channels = channels;
            this.height = height;
            this.width = width;
            return this;
        }

        /**
         * The output shape as a (C, H, W) {@link Shape}, e.g. a model's input shape.
         *
         * @param chw the shape, C = 1 or 3
         * @return this builder
         * @throws IllegalArgumentException when the shape's rank is not 3
         */
        public Builder shape(Shape chw) {
            if (chw.rank() != 3) {
                throw new IllegalArgumentException("ImageInput: shape must be (C, H, W), got " + chw);
            }
            return shape(chw.dim(0), chw.dim(1), chw.dim(2));
        }

        /**
         * The same mean and std for every channel (default: mean 0, std 1, values v / 255 in [0, 1]).
         *
         * @param n e.g. {@link Normalization#MNIST}, or a dataset's recorded normalization
         * @return this builder
         */
        public Builder normalize(Normalization n) {
            return normalize(new double[] {n.mean()}, new double[] {n.std()});
        }

        /**
         * Per-channel mean and std on the [0, 1] scale, as torchvision's
         * {@code Normalize(mean, std)}: one value for all channels, or one per channel.
         *
         * @param mean finite values, copied; checked by {@link #build()}
         * @param std values ≥ 1e-6, as many as mean, copied
         * @return this builder
         * @throws NullPointerException when either is null
         */
        public Builder normalize(double[] mean, double[] std) {
            this.mean = Objects.requireNonNull(mean, "mean").clone();
            this.std = Objects.requireNonNull(std, "std").clone();
            return this;
        }

        /**
         * When to invert (default {@link Invert#NEVER}).
         *
         * @param invert not null
         * @return this builder
         * @throws NullPointerException when invert is null
         */
        public Builder invert(Invert invert) {
            this.invert = Objects.requireNonNull(invert, "invert");
            return this;
        }

        /**
         * Whether an image of another height and width is resized (the default) or refused, from
         * its header before it is decoded: for images prepared at the model's size, where a
         * resize would hide a mistake.
         *
         * @param resize false to refuse images whose size is not the shape's
         * @return this builder
         */
        public Builder resize(boolean resize) {
            this.resize = resize;
            return this;
        }

        /**
         * The largest width × height accepted (default {@value ImageInput#DEFAULT_MAX_PIXELS}).
         *
         * @param maxPixels ≥ 1, checked by {@link #build()}; lower it to bound the native memory of progressive
         *     JPEGs
         * @return this builder
         */
        public Builder maxPixels(long maxPixels) {
            this.maxPixels = maxPixels;
            return this;
        }

        /**
         * Checks the settings and makes the reader.
         *
         * @return the reader, immutable
         * @throws IllegalArgumentException naming the first setting that is missing or invalid
         */
        public ImageInput build() {
            if (channels != 1 && channels != 3) {
                throw new IllegalArgumentException("ImageInput: channels must be 1 (gray) or 3 (RGB), got " + channels
                        + (channels == 0 ? " (shape not set)" : ""));
            }
            if (height < 1 || width < 1) {
                throw new IllegalArgumentException("ImageInput: height and width must be >= 1, got " + height + "x" + width);
            }
            if ((long) channels * height * width > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("ImageInput: shape (" + channels + ", " + height + ", " + width
                        + ") has more than 2^31 values");
            }
            for (double[] v : new double[][] {mean, std}) {
                if (v.length != 1 && v.length != channels) {
                    throw new IllegalArgumentException("ImageInput: mean and std need 1 or " + channels
                            + " values, got mean " + Arrays.toString(mean) + ", std " + Arrays.toString(std));
                }
            }
            for (int i = 0; i < mean.length; i++) {
                if (!Double.isFinite(mean[i])) {
                    throw new IllegalArgumentException("ImageInput: mean must be finite, got " + Arrays.toString(mean));
                }
            }
            for (int i = 0; i < std.length; i++) {
                // std 1e-300 would turn every value into ±Inf.
                if (!(std[i] >= 1e-6) || Double.isInfinite(std[i])) {
                    throw new IllegalArgumentException("ImageInput: std must be finite and >= 1e-6, got "
                            + Arrays.toString(std));
                }
            }
            if (maxPixels < 1) {
                throw new IllegalArgumentException("ImageInput: maxPixels must be >= 1, got " + maxPixels);
            }
            return new ImageInput(this);
        }
    }
}
