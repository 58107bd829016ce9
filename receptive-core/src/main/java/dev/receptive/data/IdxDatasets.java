package dev.receptive.data;

import dev.receptive.data.internal.Idx;
import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Loads an MNIST-layout folder: {prefix}-images-idx3-ubyte and {prefix}-labels-idx1-ubyte, raw or .gz. */
final class IdxDatasets {
    private IdxDatasets() {
    }

    static Dataset load(Path dir, Split split, Normalization norm, List<String> classNames) throws IOException {
        Path imageFile = find(dir, split.filePrefix() + "-images-idx3-ubyte");
        Path labelFile = find(dir, split.filePrefix() + "-labels-idx1-ubyte");
        // Both headers first: a count that does not fit is refused before any data is read.
        Idx.Header images = Idx.header(imageFile);
        Idx.Header labels = Idx.header(labelFile);
        if (images.dims().length != 3) {
            throw new IOException(imageFile + ": images must have 3 dimensions (N, H, W), found "
                    + Arrays.toString(images.dims()));
        }
        if (labels.dims().length != 1) {
            throw new IOException(labelFile + ": labels must have 1 dimension (N), found "
                    + Arrays.toString(labels.dims()));
        }
        int n = images.dims()[0];
        if (labels.dims()[0] != n) {
            throw new IOException("image and label counts differ: " + imageFile + " holds " + n + " images, "
                    + labelFile + " holds " + labels.dims()[0] + " labels");
        }

        byte[] labelBytes = Idx.read(labelFile).data();
        int[] classes = new int[n];
        for (int i = 0; i < n; i++) {
            classes[i] = labelBytes[i] & 0xFF;
            if (classes[i] >= classNames.size()) {
                throw new IOException(labelFile + ": label " + i + " is " + classes[i] + ", outside [0, "
                        + classNames.size() + ")");
            }
        }
        // The pixels go straight from the file into floats: no byte copy of the whole set.
        float[] table = norm.table();
        float[] values = new float[(int) images.dataBytes()];
        Idx.readData(imageFile, images, (chunk, offset, length) -> {
            for (int i = 0; i < length; i++) {
                values[offset + i] = table[chunk[i] & 0xFF];
            }
        });
        return new Dataset(values, classes, Shape.of(1, images.dims()[1], images.dims()[2]), classNames, norm);
    }

    /** The raw file if present, else its .gz sibling. */
    private static Path find(Path dir, String name) throws IOException {
        Path raw = dir.resolve(name);
        if (Files.isRegularFile(raw)) {
            return raw;
        }
        Path gz = dir.resolve(name + ".gz");
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        throw new NoSuchFileException(raw.toString(), null, "neither it nor " + gz.getFileName() + " exists");
    }
}
