package dev.receptive.data;

import dev.receptive.tensor.Shape;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.FileImageInputStream;
import javax.imageio.stream.ImageInputStream;

/**
 * Turns an image file (PNG, JPEG, GIF, BMP: what {@link ImageIO} reads) into a model's input:
 * (C, H, W) floats, grayscale (C = 1) or RGB (C = 3), resized to H × W by area averaging,
 * optionally inverted, and normalized per channel as {@code (v / 255 − mean[c]) / std[c]} with
 * v the 8-bit value (what torchvision's {@code ToTensor} then {@code Normalize(mean, std)} does).
 *
 * <pre>{@code
 * ImageInput input = ImageInput.builder().shape(1, 28, 28).normalize(Normalization.MNIST).build();
 * float[] x = input.load(Path.of("digit.png")).values(); // (1, 28, 28)
 * }</pre>
 *
 * <p>Safe on files from anywhere: the dimensions are read from the header first and an image
 * with more than {@link #maxPixels()} pixels ({@value #DEFAULT_MAX_PIXELS} by default, 8192 ×
 * 8192), a side longer than {@value #MAX_SIDE} or a compressed BMP declaring more data than
 * the file holds is refused before it is decoded; large images are decoded subsampled (at most four
 * source pixels per output pixel in each direction survive), so memory stays bounded by the
 * output size; a warning of the decoder (a truncated JPEG's "premature end", a damaged PNG
 * chunk) is an error, not a half-grey picture. Every error names the file. One cost is outside
 * the Java heap: the JDK's JPEG decoder keeps a progressive JPEG's coefficients for the whole
 * image in native memory, about 200 MB for a file claiming 8192 × 8192 (measured: 193 MB for
 * 0.2 s before a truncated one was refused); lower {@link Builder#maxPixels} where memory is
 * tight.
 *
 * <p>Gray images (8- or 16-bit gray PNG and JPEG) are read through their raster samples, not
 * through {@code getRGB}, which would pass gray through a colour-space conversion and change
 * mid-tones: a gray PNG written from a dataset image gives back exactly the dataset's values.
 * Colour becomes gray as Rec. 601 luma (0.299 R + 0.587 G + 0.114 B); transparency is
 * composited over white. Instances are immutable and may be shared between threads.
 */
public final class ImageInput {
    /** The default limit on width × height: 8192 × 8192 pixels. */
    public static final long DEFAULT_MAX_PIXELS = 1L << 26;
    /** The largest width or height accepted (JPEG's own limit). */
    public static final int MAX_SIDE = 65535;
    /** Source pixels kept per output pixel and direction when a large image is decoded subsampled. */
    private static final int OVERSAMPLING = 4;
    private static final Set<String> FORMATS = java.util.Set.of("png", "jpeg", "gif", "bmp");

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

    private ImageInput(Builder b) {
        this.channels = b.channels;
        this.height = b.height;
        this.width = b.width;
        this.mean = b.mean.length == 1 ? fill(b.mean[0]) : b.mean.clone();
        this.std = b.std.length == 1 ? fill(b.std[0]) : b.std.clone();
        this.invert = b.invert;
        this.maxPixels = b.maxPixels;
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
     * @throws IOException naming the file: it does not exist, is not an image format Java reads,
     *     is larger than {@link #maxPixels()}, or is damaged or truncated (any decoder warning)
     *
     * @param file the image file
     * @return the model input and how it was made
     */
    public Loaded load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw Files.exists(file) ? new IOException(file + ": not a regular file")
                    : new NoSuchFileException(file.toString(), null, "no such image file");
        }
        Decoded d = decode(file);
        double[] resized = resize(d.planes, channels, d.width, d.height, width, height);
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
        return new Loaded(values, flip, d.sourceWidth, d.sourceHeight);
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
        try (ImageInputStream in = new FileImageInputStream(file.toFile())) {
            ImageReader reader = reader(in);
            if (reader == null) {
                throw new IOException(file + ": not a PNG, JPEG, GIF or BMP image");
            }
            try {
                reader.setInput(in, true, true);
                ImageTypeSpecifier type = reader.getRawImageType(0);
                ColorModel cm = type == null ? null : type.getColorModel();
                return cm instanceof ComponentColorModel && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY ? 1 : 3;
            } catch (IOException e) {
                throw named(file, e);
            } catch (RuntimeException e) {
                throw new IOException(file + ": damaged image: " + describe(e), e);
            } finally {
                reader.dispose();
            }
        }
    }

    /** Channel planes (C, h, w) in [0, 255] of a possibly subsampled decode, and the file's own size. */
    private record Decoded(double[] planes, int width, int height, int sourceWidth, int sourceHeight) {
    }

    private Decoded decode(Path file) throws IOException {
        try (ImageInputStream in = new FileImageInputStream(file.toFile())) {
            ImageReader reader = reader(in);
            if (reader == null) {
                throw new IOException(file + ": not a PNG, JPEG, GIF or BMP image");
            }
            StringBuilder warnings = new StringBuilder();
            // A warning means the decoder patched something up (missing data is drawn grey):
            // stop decoding and refuse the image rather than classify what was invented.
            IIOReadWarningListener listener = (source, warning) -> {
                if (warnings.length() < 500) {
                    warnings.append(warnings.length() == 0 ? "" : "; ").append(warning);
                }
                reader.abort();
            };
            try {
                reader.setInput(in, true, true);
                reader.addIIOReadWarningListener(listener);
                String format = reader.getFormatName().toUpperCase(Locale.ROOT);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if (w < 1 || h < 1) {
                    throw new IOException(file + ": " + format + " image of " + w + "x" + h + " pixels");
                }
                if (w > MAX_SIDE || h > MAX_SIDE) {
                    // Decoders hold whole rows whatever the subsampling: a 274-byte PNG 6 million
                    // pixels wide made the PNG decoder allocate 75 MB.
                    throw new IOException(file + ": " + format + " image of " + w + "x" + h
                            + " pixels, wider or taller than the limit of " + MAX_SIDE);
                }
                if ((long) w * h > maxPixels) {
                    throw new IOException(file + ": " + format + " image of " + w + "x" + h + " = " + (long) w * h
                            + " pixels, more than the limit of " + maxPixels);
                }
                if (format.equals("BMP")) {
                    checkBmpDataSize(file);
                }
                ImageReadParam param = reader.getDefaultReadParam();
                int sx = Math.max(1, w / (OVERSAMPLING * width));
                int sy = Math.max(1, h / (OVERSAMPLING * height));
                param.setSourceSubsampling(sx, sy, 0, 0);
                BufferedImage image = reader.read(0, param);
                if (warnings.length() > 0 || image == null) {
                    throw new IOException(file + ": damaged " + format + " image: "
                            + (warnings.length() > 0 ? warnings : "the decoder returned nothing"));
                }
                return new Decoded(planes(image), image.getWidth(), image.getHeight(), w, h);
            } catch (IOException e) {
                throw named(file, e);
            } catch (RuntimeException e) {
                // The JDK's decoders throw unchecked exceptions on some malformed files.
                throw new IOException(file + ": damaged image: " + describe(e), e);
            } finally {
                reader.dispose();
            }
        }
    }

    /**
     * The JDK's BMP decoder allocates the image data size of a compressed BMP's header before
     * reading it (found by fuzzing: a 58-byte BMP declaring an embedded PNG of 134 MB). That
     * size cannot be more than the file holds.
     */
    private static void checkBmpDataSize(Path file) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(38).order(ByteOrder.LITTLE_ENDIAN);
        long fileBytes;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            fileBytes = channel.size();
            while (header.hasRemaining() && channel.read(header) >= 0) {
                // fill what there is
            }
        }
        if (header.position() < 38) {
            return; // too short for the fields: the decoder reports it
        }
        int compression = header.getInt(30); // BITMAPINFOHEADER: 14-byte file header, then biCompression
        long dataBytes = header.getInt(34) & 0xFFFF_FFFFL; // biSizeImage
        boolean compressed = compression == 1 || compression == 2 || compression == 4 || compression == 5;
        if (compressed && dataBytes > fileBytes) {
            throw new IOException(file + ": damaged BMP image: the header declares " + dataBytes
                    + " bytes of compressed data, but the file has " + fileBytes);
        }
    }

    /**
     * A reader of one of the four formats for the stream, or null. Others that ImageIO knows
     * (TIFF, WBMP) are not offered: WBMP has no magic number and takes many files for itself.
     */
    private static ImageReader reader(ImageInputStream in) {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        while (readers.hasNext()) {
            ImageReader r = readers.next();
            try {
                if (FORMATS.contains(r.getFormatName().toLowerCase(Locale.ROOT))) {
                    return r;
                }
            } catch (IOException e) {
                // not this one
            }
            r.dispose();
        }
        return null;
    }

    /** The exception with the file named in its message (ImageIO's messages do not name it). */
    private static IOException named(Path file, IOException e) {
        String m = describe(e);
        return m.startsWith(file.toString()) ? e : new IOException(file + ": " + m, e);
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName());
        for (Throwable c = e.getCause(); c != null && c != e && sb.length() < 300; c = c.getCause()) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append(": ").append(c.getMessage());
            }
        }
        return sb.toString();
    }

    /** The image as `channels` planes of values in [0, 255]. */
    private double[] planes(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        double[] out = new double[channels * w * h];
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        if (cm instanceof ComponentColorModel && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY
                && raster.getNumBands() == cm.getNumComponents()) {
            // Gray samples as stored: no colour-space conversion.
            double max = (1 << cm.getComponentSize(0)) - 1;
            boolean alpha = cm.hasAlpha();
            double alphaMax = alpha ? (1 << cm.getComponentSize(1)) - 1 : 1;
            int[] gray = new int[w];
            int[] a = new int[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, gray);
                if (alpha) {
                    raster.getSamples(0, y, w, 1, 1, a);
                }
                for (int x = 0; x < w; x++) {
                    double v = gray[x] * 255.0 / max;
                    if (alpha) {
                        double t = a[x] / alphaMax;
                        v = (cm.isAlphaPremultiplied() ? v : t * v) + (1 - t) * 255;
                    }
                    for (int c = 0; c < channels; c++) {
                        out[(c * h + y) * w + x] = v;
                    }
                }
            }
            return out;
        }
        int[] argb = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, argb, 0, w);
            for (int x = 0; x < w; x++) {
                int p = argb[x];
                double t = (p >>> 24) / 255.0;
                double r = t * (p >> 16 & 0xFF) + (1 - t) * 255;
                double g = t * (p >> 8 & 0xFF) + (1 - t) * 255;
                double b = t * (p & 0xFF) + (1 - t) * 255;
                if (channels == 1) {
                    // Gray stored as RGB stays exactly that gray (the weights add up to 1 only roughly).
                    out[y * w + x] = r == g && g == b ? r : 0.299 * r + 0.587 * g + 0.114 * b;
                } else {
                    out[y * w + x] = r;
                    out[(h + y) * w + x] = g;
                    out[(2 * h + y) * w + x] = b;
                }
            }
        }
        return out;
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
