package dev.receptive.data.internal;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Internal, not API: the IDX reader behind {@link dev.receptive.data.Mnist} and
 * {@link dev.receptive.data.FashionMnist}, which may change without notice.
 *
 * <p>One IDX file of unsigned bytes, the format of MNIST
 * (http://yann.lecun.com/exdb/mnist/): magic 00 00 08 r (08 = unsigned byte, r = rank), r
 * big-endian int32 dimensions, then the bytes in row-major order. Images are rank 3
 * (magic 0x00000803), labels rank 1 (0x00000801).
 *
 * @param dims the dimensions, outermost first
 * @param data the bytes, as stored (read them with {@code & 0xFF})
 */
public record Idx(int[] dims, byte[] data) {
    private static final int UNSIGNED_BYTE = 0x08;
    /**
     * Deflate's largest expansion: a 258-byte match coded in about 2 bits, 1032 bytes out per
     * byte in. A gzip file of L bytes cannot hold more than this many times L.
     */
    private static final long MAX_GZIP_RATIO = 1032;
    /** A gzip member's 10-byte header and 8-byte trailer (CRC-32, size mod 2^32). */
    private static final int GZIP_FRAME = 18;

    /**
     * What an IDX header declares, checked against the file's length: a raw file must be exactly
     * header + data long; a gzip file must be able to hold that much (deflate expands at most
     * 1032:1) and its trailer must give that size (mod 2^32; single-member gzip, as the
     * datasets are published).
     *
     * @param dims the dimensions, outermost first
     * @param dataBytes the product of the dimensions
     * @param gzip whether the file is gzip-compressed
     */
    public record Header(int[] dims, long dataBytes, boolean gzip) {
        /** {@return the bytes before the data: the magic number and the dimensions} */
        public long headerBytes() {
            return 4 + 4L * dims.length;
        }
    }

    /**
     * Reads a raw or gzip-compressed IDX file; gzip is recognised by its magic bytes 1f 8b, not
     * by the file name. The header is read and checked against the file's length first, so a
     * header that lies about the size allocates nothing.
     *
     * @throws IOException naming the file and the problem: wrong magic, a type other than
     *     unsigned byte, a dimension ≤ 0, a truncated file, bytes past the declared data, or
     *     damaged gzip data
     *
     * @param file an IDX file, raw or gzip-compressed
     * @return its dimensions and bytes
     */
    public static Idx read(Path file) throws IOException {
        Header h = header(file);
        byte[] data = new byte[(int) h.dataBytes()];
        readData(file, h, (chunk, offset, length) -> System.arraycopy(chunk, 0, data, offset, length));
        return new Idx(h.dims(), data);
    }

    /**
     * Reads only the header of an IDX file and checks it against the file's length (see
     * {@link Header}).
     *
     * @param file an IDX file, raw or gzip-compressed
     * @return what its header declares
     * @throws IOException naming the file, as {@link #read}
     */
    public static Header header(Path file) throws IOException {
        long fileBytes = Files.size(file);
        Header h;
        try (InputStream in = open(file)) {
            h = parseHeader(file, in, in instanceof GZIPInputStream);
        } catch (EOFException | ZipException e) {
            throw damagedGzip(file, e);
        }
        long needed = h.headerBytes() + h.dataBytes();
        if (!h.gzip()) {
            if (fileBytes < needed) {
                throw new IOException(file + ": truncated IDX file: dimensions " + Arrays.toString(h.dims()) + " need "
                        + needed + " bytes but found " + fileBytes);
            }
            if (fileBytes > needed) {
                throw new IOException(file + ": IDX file is longer than its dimensions " + Arrays.toString(h.dims())
                        + " declare (" + needed + " bytes, the file has " + fileBytes + ")");
            }
            return h;
        }
        if (needed > MAX_GZIP_RATIO * fileBytes) {
            throw new IOException(file + ": dimensions " + Arrays.toString(h.dims()) + " need " + needed
                    + " bytes after decompression, but " + fileBytes + " bytes of gzip data cannot hold more than "
                    + MAX_GZIP_RATIO * fileBytes);
        }
        long trailerSize = gzipTrailerSize(file, fileBytes);
        if (trailerSize != (needed & 0xFFFF_FFFFL)) {
            throw new IOException(file + ": " + (trailerSize < needed
                    ? "truncated IDX file: dimensions " + Arrays.toString(h.dims()) + " need " + needed
                            + " bytes after decompression but found " + trailerSize + " (by the gzip trailer)"
                    : "IDX file is longer than its dimensions " + Arrays.toString(h.dims()) + " declare (" + needed
                            + " bytes after decompression, the gzip trailer says " + trailerSize + ")"));
        }
        return h;
    }

    /** Receives the data of an IDX file in order, chunk by chunk; the chunk array is reused. */
    @FunctionalInterface
    public interface Chunks {
        /**
         * Takes {@code length} bytes of {@code chunk} from {@code offset}: the next bytes of the data.
         *
         * @param chunk the buffer, overwritten by the next chunk
         * @param offset where in the data this chunk starts
         * @param length how many bytes of {@code chunk} hold data
         */
        void accept(byte[] chunk, int offset, int length);
    }

    /**
     * Streams the data of a file whose header was read with {@link #header} to {@code sink} in
     * chunks of at most 64 KiB, and checks that exactly that much data follows.
     *
     * @param file the IDX file, raw or gzip
     * @param h its header, from {@link #header}
     * @param sink receives the data in order
     * @throws IOException naming the file when it cannot be read or holds more or less data than its header declares
     */
    public static void readData(Path file, Header h, Chunks sink) throws IOException {
        try (InputStream in = open(file)) {
            String unit = h.gzip() ? " bytes after decompression" : " bytes";
            in.skipNBytes(h.headerBytes());
            byte[] chunk = new byte[(int) Math.min(h.dataBytes(), 1 << 16)];
            long done = 0;
            while (done < h.dataBytes()) {
                int n = in.readNBytes(chunk, 0, (int) Math.min(chunk.length, h.dataBytes() - done));
                if (n == 0) {
                    throw new IOException(file + ": truncated IDX file: dimensions " + Arrays.toString(h.dims())
                            + " need " + (h.headerBytes() + h.dataBytes()) + unit + " but found "
                            + (h.headerBytes() + done));
                }
                sink.accept(chunk, (int) done, n);
                done += n;
            }
            if (in.read() != -1) {
                throw new IOException(file + ": IDX file is longer than its dimensions " + Arrays.toString(h.dims())
                        + " declare (" + (h.headerBytes() + h.dataBytes()) + unit + ")");
            }
        } catch (EOFException | ZipException e) {
            throw damagedGzip(file, e);
        }
    }

    /** GZIPInputStream's EOFException for a stream cut inside its header has no message at all. */
    private static IOException damagedGzip(Path file, IOException e) {
        return new IOException(file + ": damaged or truncated gzip data ("
                + (e.getMessage() != null ? e.getMessage() : "unexpected end of file") + ")", e);
    }

    /** ISIZE, the last four bytes of a gzip member: the content's length mod 2^32. */
    private static long gzipTrailerSize(Path file, long fileBytes) throws IOException {
        if (fileBytes < GZIP_FRAME) {
            throw new IOException(file + ": damaged or truncated gzip data (" + fileBytes
                    + " bytes, fewer than a gzip header and trailer)");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer trailer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            while (trailer.hasRemaining()) {
                if (channel.read(trailer, fileBytes - 4 + trailer.position()) < 0) {
                    throw new IOException(file + ": changed while being read");
                }
            }
            return trailer.flip().getInt() & 0xFFFF_FFFFL;
        }
    }

    private static Header parseHeader(Path file, InputStream in, boolean gzip) throws IOException {
        String unit = gzip ? " bytes after decompression" : " bytes";

        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            throw new IOException(file + ": truncated IDX file: expected at least 4" + unit
                    + " (the magic number) but found " + magic.length);
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw new IOException(String.format("%s: not an IDX file: magic %02x %02x %02x %02x, expected 00 00 08 0r",
                    file, magic[0], magic[1], magic[2], magic[3]));
        }
        if (magic[2] != UNSIGNED_BYTE) {
            throw new IOException(String.format(
                    "%s: unsupported IDX element type 0x%02x; only unsigned byte (0x08) is supported", file, magic[2]));
        }
        int rank = magic[3] & 0xFF;
        if (rank == 0) {
            throw new IOException(file + ": IDX file declares rank 0; expected at least one dimension");
        }

        long headerBytes = 4 + 4L * rank;
        byte[] dimBytes = in.readNBytes(4 * rank);
        if (dimBytes.length < 4 * rank) {
            throw new IOException(file + ": truncated IDX file: expected at least " + headerBytes + unit
                    + " (header of rank " + rank + ") but found " + (4 + dimBytes.length));
        }
        int[] dims = new int[rank];
        long size = 1;
        for (int i = 0; i < rank; i++) {
            int o = 4 * i;
            dims[i] = (dimBytes[o] & 0xFF) << 24 | (dimBytes[o + 1] & 0xFF) << 16
                    | (dimBytes[o + 2] & 0xFF) << 8 | (dimBytes[o + 3] & 0xFF);
            if (dims[i] <= 0) {
                throw new IOException(file + ": IDX dimension " + i + " of " + rank + " is " + dims[i]
                        + "; every dimension must be positive");
            }
            size *= dims[i]; // ≤ 2^31 · 2^31: no overflow before the check below
            if (size > Integer.MAX_VALUE - 8) {
                throw new IOException(file + ": IDX dimensions " + Arrays.toString(dims)
                        + " hold more than 2^31 bytes, too many for one array");
            }
        }
        return new Header(dims, size, gzip);
    }

    private static InputStream open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            in.mark(2);
            boolean gzip = in.read() == 0x1f && in.read() == 0x8b;
            in.reset();
            return gzip ? new GZIPInputStream(in, 1 << 16) : in;
        } catch (IOException e) {
            in.close();
            throw e;
        }
    }
}
