package dev.receptive.cli;

import dev.receptive.data.Dataset;
import dev.receptive.data.ImageFolder;
import dev.receptive.data.Normalization;
import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code --dataset folder:PATH}: an image folder (one subfolder per class) for train, evaluate
 * and predict. Its errors are bad usage naming the folder or file.
 */
final class FolderData {
    static final String PREFIX = "folder:";
    /** Model metadata: the validation fraction and seed of the folder's split, "0.2,1". */
    static final String SPLIT = "receptive.validation_split";

    private FolderData() {
    }

    /** The folder of a {@code folder:PATH} dataset name, or null for any other name. */
    static Path path(String dataset) {
        if (dataset == null || !dataset.toLowerCase(Locale.ROOT).startsWith(PREFIX)) {
            return null;
        }
        String p = dataset.substring(PREFIX.length());
        if (p.isBlank()) {
            throw new UsageException("--dataset folder: needs the folder, e.g. --dataset folder:photos");
        }
        return Path.of(p);
    }

    /** The dataset name a model records: folder: and the absolute path. */
    static String id(Path folder) {
        return PREFIX + folder.toAbsolutePath().normalize();
    }

    static ImageFolder scan(Path root) {
        try {
            return ImageFolder.scan(root);
        } catch (IOException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /** The folder labelled by the model's classes (sorted folder names when the model records none). */
    static ImageFolder scan(Path root, List<String> modelClasses) {
        try {
            return modelClasses.isEmpty() ? ImageFolder.scan(root) : ImageFolder.scan(root, modelClasses);
        } catch (IOException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /** The training part, normalized by its own statistics. */
    static Dataset load(ImageFolder folder, Shape shape) {
        try {
            return folder.load(shape);
        } catch (IOException | IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    static Dataset load(ImageFolder folder, Shape shape, Normalization norm) {
        try {
            return folder.load(shape, norm);
        } catch (IOException | IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /** The parts of --val-split at {@code seed}. */
    static ImageFolder.Parts split(ImageFolder folder, double fraction, long seed) {
        try {
            return folder.split(fraction, seed);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /**
     * The (C, H, W) to load a folder at: --channels and --image-size when given, else the
     * model's input (an architecture or checkpoint), else grayscale when every file is, RGB
     * otherwise, at 28 × 28 (the zoo's size).
     */
    static Shape shape(Integer channels, String imageSize, Shape modelInput, ImageFolder folder) {
        int c;
        if (channels != null) {
            if (channels != 1 && channels != 3) {
                throw new UsageException("--channels must be 1 (grayscale) or 3 (RGB), got " + channels);
            }
            c = channels;
        } else if (modelInput != null) {
            c = modelInput.dim(0);
        } else {
            try {
                c = folder.storedChannels();
            } catch (IOException e) {
                throw new UsageException(e.getMessage(), e);
            }
        }
        int[] hw = imageSize != null ? imageSize(imageSize)
                : modelInput != null ? new int[] {modelInput.dim(1), modelInput.dim(2)} : new int[] {28, 28};
        Shape shape = Shape.of(c, hw[0], hw[1]);
        if (modelInput != null && !modelInput.equals(shape)) {
            throw new UsageException("the model takes " + modelInput + ", but --channels/--image-size ask for " + shape);
        }
        return shape;
    }

    /** "N" (square) or "HxW", each in [4, 4096]. */
    static int[] imageSize(String value) {
        String[] parts = value.toLowerCase(Locale.ROOT).split("x", -1);
        try {
            int h = Integer.parseInt(parts[0].trim());
            int w = parts.length == 1 ? h : Integer.parseInt(parts[1].trim());
            if (parts.length <= 2 && h >= 4 && w >= 4 && h <= 4096 && w <= 4096) {
                return new int[] {h, w};
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("--image-size must be N or HxW with sides from 4 to 4096, got '" + value + "'");
    }

    /** The image files under {@code root} (any depth, hidden ones skipped), sorted; at least one. */
    static List<Path> images(Path root) {
        List<Path> files;
        try {
            files = ImageFolder.imageFiles(root);
        } catch (IOException e) {
            throw new UsageException(e.getMessage(), e);
        }
        if (files.isEmpty()) {
            throw new UsageException(root + ": holds no " + String.join(", ", ImageFolder.EXTENSIONS) + " file");
        }
        return files;
    }
}
