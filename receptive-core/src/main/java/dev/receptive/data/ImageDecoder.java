package dev.receptive.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
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
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageInputStreamImpl;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * The one place where image bytes become pixel samples, for {@link ImageInput} and through it
 * every caller (prediction, image folders, Spark): the header checks before decoding, decoder
 * warnings as errors, and how grey, 16-bit, palette and transparent images become grey or RGB
 * values in [0, 255]. {@link ImageInput} documents the rules.
 */
final class ImageDecoder {
    /** Source pixels kept per output pixel and direction when a large image is decoded subsampled. */
    private static final int OVERSAMPLING = 4;
    private static final Set<String> FORMATS = Set.of("png", "jpeg", "gif", "bmp");
    /** The BMP header fields read by {@link #checkBmpDataSize}: 14-byte file header, then BITMAPINFOHEADER to biSizeImage. */
    private static final int BMP_HEADER = 38;

    /** Encoded image bytes and the name errors give them. */
    sealed interface Source permits FileSource, ByteSource {
        /** {@return what errors call the image} */
        String name();

        /** {@return a new stream over the bytes, from the start} */
        ImageInputStream open() throws IOException;

        /** {@return the first n bytes, or fewer when there are fewer, and the total length} */
        Head head(int n) throws IOException;
    }

    record Head(byte[] bytes, long length) {
    }

    /** An image file; checked to be a regular file before it is opened. */
    record FileSource(Path file) implements Source {
        @Override
        public String name() {
            return file.toString();
        }

        @Override
        public ImageInputStream open() throws IOException {
            if (!Files.isRegularFile(file)) {
                throw Files.exists(file) ? new IOException(file + ": not a regular file")
                        : new NoSuchFileException(file.toString(), null, "no such image file");
            }
            // Through the Path itself: a File is made from the name as a string, which loses the
            // bytes of names the JVM's charset cannot represent (any non-ASCII name under LANG=C).
            return new ChannelImageInputStream(FileChannel.open(file, StandardOpenOption.READ));
        }

        @Override
        public Head head(int n) throws IOException {
            ByteBuffer header = ByteBuffer.allocate(n);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                while (header.hasRemaining() && channel.read(header) >= 0) {
                    // fill what there is
                }
                byte[] bytes = new byte[header.position()];
                header.flip().get(bytes);
                return new Head(bytes, channel.size());
            }
        }
    }

    /** A file read through its channel, as FileImageInputStream reads one through a RandomAccessFile. */
    private static final class ChannelImageInputStream extends ImageInputStreamImpl {
        private final FileChannel channel;
        private final ByteBuffer one = ByteBuffer.allocate(1);

        ChannelImageInputStream(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public int read() throws IOException {
            checkClosed();
            bitOffset = 0;
            one.clear();
            if (channel.read(one, streamPos) <= 0) {
                return -1;
            }
            streamPos++;
            return one.get(0) & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            checkClosed();
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            bitOffset = 0;
            if (len == 0) {
                return 0;
            }
            int n = channel.read(ByteBuffer.wrap(b, off, len), streamPos);
            if (n <= 0) {
                return -1;
            }
            streamPos += n;
            return n;
        }

        @Override
        public long length() {
            try {
                return channel.size();
            } catch (IOException e) {
                return -1L;
            }
        }

        @Override
        public void close() throws IOException {
            super.close();
            channel.close();
        }
    }

    /**
     * Image bytes in memory. Read through a memory-cached stream: {@link ImageIO#createImageInputStream}
     * would cache in a temporary file while {@link ImageIO#getUseCache()} is true, its default.
     */
    record ByteSource(byte[] bytes, String name) implements Source {
        @Override
        public ImageInputStream open() {
            return new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes));
        }

        @Override
        public Head head(int n) {
            return new Head(Arrays.copyOf(bytes, Math.min(n, bytes.length)), bytes.length);
        }
    }

    /** Channel planes (C, h, w) in [0, 255] of a possibly subsampled decode, and the image's own size. */
    record Decoded(double[] planes, int width, int height, int sourceWidth, int sourceHeight) {
    }

    private final int channels;
    private final int height;
    private final int width;
    private final boolean resize;
    private final long maxPixels;

    /**
     * @param channels 1 (grey) or 3 (RGB) planes out
     * @param height the height the caller makes of the image: subsampling keeps enough rows for it
     * @param width likewise for columns
     * @param resize false to refuse an image of another size before decoding it
     * @param maxPixels the largest width × height decoded
     */
    ImageDecoder(int channels, int height, int width, boolean resize, long maxPixels) {
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.resize = resize;
        this.maxPixels = maxPixels;
    }

    Decoded decode(Source source) throws IOException {
        String name = source.name();
        try (ImageInputStream in = source.open()) {
            ImageReader reader = reader(in);
            if (reader == null) {
                throw new IOException(name + ": not a PNG, JPEG, GIF or BMP image");
            }
            StringBuilder warnings = new StringBuilder();
            // A warning means the decoder patched something up (missing data is drawn grey):
            // stop decoding and refuse the image rather than classify what was invented.
            IIOReadWarningListener listener = (r, warning) -> {
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
                checkSize(name, format, w, h);
                if (format.equals("BMP")) {
                    checkBmpDataSize(source);
                }
                ImageReadParam param = reader.getDefaultReadParam();
                int sx = Math.max(1, w / (OVERSAMPLING * width));
                int sy = Math.max(1, h / (OVERSAMPLING * height));
                param.setSourceSubsampling(sx, sy, 0, 0);
                BufferedImage image = reader.read(0, param);
                if (warnings.length() > 0 || image == null) {
                    throw new IOException(name + ": damaged " + format + " image: "
                            + (warnings.length() > 0 ? warnings : "the decoder returned nothing"));
                }
                return new Decoded(planes(image), image.getWidth(), image.getHeight(), w, h);
            } catch (IOException e) {
                throw named(name, e);
            } catch (RuntimeException e) {
                // The JDK's decoders throw unchecked exceptions on some malformed files.
                throw new IOException(name + ": damaged image: " + describe(e), e);
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw named(name, e);
        }
    }

    /** Refuses, from the header alone, what would cost too much to decode or what the caller cannot use. */
    private void checkSize(String name, String format, int w, int h) throws IOException {
        if (w < 1 || h < 1) {
            throw new IOException(name + ": " + format + " image of " + w + "x" + h + " pixels");
        }
        if (w > ImageInput.MAX_SIDE || h > ImageInput.MAX_SIDE) {
            // Decoders hold whole rows whatever the subsampling: a 274-byte PNG 6 million
            // pixels wide made the PNG decoder allocate 75 MB.
            throw new IOException(name + ": " + format + " image of " + w + "x" + h
                    + " pixels, wider or taller than the limit of " + ImageInput.MAX_SIDE);
        }
        if ((long) w * h > maxPixels) {
            throw new IOException(name + ": " + format + " image of " + w + "x" + h + " = " + (long) w * h
                    + " pixels, more than the limit of " + maxPixels);
        }
        if (!resize && (w != width || h != height)) {
            throw new IOException(name + " is " + w + "×" + h + " pixels but the model takes " + width + "×" + height
                    + "; resize the images first");
        }
    }

    /**
     * How many channels the image stores, from its header alone (nothing is decoded).
     *
     * @see ImageInput#storedChannels
     */
    static int storedChannels(Source source) throws IOException {
        String name = source.name();
        try (ImageInputStream in = source.open()) {
            ImageReader reader = reader(in);
            if (reader == null) {
                throw new IOException(name + ": not a PNG, JPEG, GIF or BMP image");
            }
            try {
                reader.setInput(in, true, true);
                ImageTypeSpecifier type = reader.getRawImageType(0);
                return type != null && isGrey(type.getColorModel()) ? 1 : 3;
            } catch (IOException e) {
                throw named(name, e);
            } catch (RuntimeException e) {
                throw new IOException(name + ": damaged image: " + describe(e), e);
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw named(name, e);
        }
    }

    private static boolean isGrey(ColorModel cm) {
        return cm instanceof ComponentColorModel && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
    }

    /**
     * The JDK's BMP decoder allocates the image data size of a compressed BMP's header before
     * reading it (found by fuzzing: a 58-byte BMP declaring an embedded PNG of 134 MB). That
     * size cannot be more than the file holds.
     */
    private static void checkBmpDataSize(Source source) throws IOException {
        Head head = source.head(BMP_HEADER);
        if (head.bytes().length < BMP_HEADER) {
            return; // too short for the fields: the decoder reports it
        }
        ByteBuffer header = ByteBuffer.wrap(head.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        int compression = header.getInt(30); // biCompression
        long dataBytes = header.getInt(34) & 0xFFFF_FFFFL; // biSizeImage
        boolean compressed = compression == 1 || compression == 2 || compression == 4 || compression == 5;
        if (compressed && dataBytes > head.length()) {
            throw new IOException(source.name() + ": damaged BMP image: the header declares " + dataBytes
                    + " bytes of compressed data, but the file has " + head.length());
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

    /** The exception with the image named in its message (ImageIO's messages do not name it). */
    private static IOException named(String name, IOException e) {
        String m = describe(e);
        return m.startsWith(name) ? e : new IOException(name + ": " + m, e);
    }

    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName());
        for (Throwable c = e.getCause(); c != null && c != e && sb.length() < 300; c = c.getCause()) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append(": ").append(c.getMessage());
            }
        }
        return sb.toString();
    }

    /**
     * The image as `channels` planes of values in [0, 255]. Grey and sRGB images are read
     * through their raster samples, scaled from their bit depth: {@code getRGB} would pass grey
     * through a colour-space conversion, changing mid-tones, and round 16-bit samples to 8 bits.
     * Everything else (palettes, other colour spaces) goes through {@code getRGB}.
     */
    private double[] planes(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        double[] out = new double[channels * w * h];
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        if (cm instanceof ComponentColorModel && raster.getNumBands() == cm.getNumComponents()
                && (isGrey(cm) || cm.getColorSpace().isCS_sRGB())) {
            int colours = cm.getNumColorComponents();
            boolean alpha = cm.hasAlpha();
            double[] max = new double[cm.getNumComponents()];
            for (int b = 0; b < max.length; b++) {
                max[b] = (1 << cm.getComponentSize(b)) - 1;
            }
            int[][] rows = new int[cm.getNumComponents()][w];
            double[] rgb = new double[3];
            for (int y = 0; y < h; y++) {
                for (int b = 0; b < rows.length; b++) {
                    raster.getSamples(0, y, w, 1, b, rows[b]);
                }
                for (int x = 0; x < w; x++) {
                    double t = alpha ? rows[colours][x] / max[colours] : 1;
                    for (int c = 0; c < 3; c++) {
                        int band = colours == 1 ? 0 : c;
                        double v = rows[band][x] * 255.0 / max[band]; // exact for 8-bit samples
                        rgb[c] = alpha ? (cm.isAlphaPremultiplied() ? v : t * v) + (1 - t) * 255 : v;
                    }
                    put(out, w, h, x, y, rgb[0], rgb[1], rgb[2]);
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
                put(out, w, h, x, y, t * (p >> 16 & 0xFF) + (1 - t) * 255, t * (p >> 8 & 0xFF) + (1 - t) * 255,
                        t * (p & 0xFF) + (1 - t) * 255);
            }
        }
        return out;
    }

    /** Stores one pixel, composited already, as grey (Rec. 601 luma) or as its three colours. */
    private void put(double[] out, int w, int h, int x, int y, double r, double g, double b) {
        if (channels == 1) {
            // Grey stays exactly that grey (the weights add up to 1 only roughly).
            out[y * w + x] = r == g && g == b ? r : 0.299 * r + 0.587 * g + 0.114 * b;
        } else {
            out[y * w + x] = r;
            out[(h + y) * w + x] = g;
            out[(2 * h + y) * w + x] = b;
        }
    }
}
