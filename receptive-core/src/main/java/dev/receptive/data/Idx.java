package dev.receptive.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * One IDX file of unsigned bytes, the format of MNIST
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
     * Reads a raw or gzip-compressed IDX file; gzip is recognised by its magic bytes 1f 8b, not
     * by the file name.
     *
     * @throws IOException naming the file and the problem: wrong magic, a type other than
     *     unsigned byte, a dimension ≤ 0, a truncated file or bytes past the declared data
     */
    public static Idx read(Path file) throws IOException {
        try (InputStream in = open(file)) {
            return parse(file, in);
        } catch (EOFException | ZipException e) {
            // A gzip stream that is cut short or damaged fails inside GZIPInputStream.
            throw new IOException(file + ": damaged or truncated gzip data: " + e.getMessage(), e);
        }
    }

    private static Idx parse(Path file, InputStream in) throws IOException {
        boolean gzip = in instanceof GZIPInputStream;
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
            size *= dims[i];
            if (size > Integer.MAX_VALUE - 8) {
                throw new IOException(file + ": IDX dimensions " + Arrays.toString(dims)
                        + " hold more than 2^31 bytes, too many for one array");
            }
        }

        // readNBytes(n) grows its buffer as bytes arrive, so a header that lies about the size
        // cannot make us allocate gigabytes for a small file.
        byte[] data = in.readNBytes((int) size);
        if (data.length < size) {
            throw new IOException(file + ": truncated IDX file: dimensions " + Arrays.toString(dims)
                    + " need " + (headerBytes + size) + unit + " but found " + (headerBytes + data.length));
        }
        if (in.read() != -1) {
            throw new IOException(file + ": IDX file is longer than its dimensions " + Arrays.toString(dims)
                    + " declare (" + (headerBytes + size) + unit + ")");
        }
        return new Idx(dims, data);
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
