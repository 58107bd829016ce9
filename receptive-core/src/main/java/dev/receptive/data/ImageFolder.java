package dev.receptive.data;

import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Labelled image files in the layout of torchvision's {@code ImageFolder}: a root folder with
 * one subfolder per class, each holding that class's PNG, JPEG, GIF or BMP files (also in
 * nested folders). Classes are the subfolder names in sorted order, so class k is the k-th
 * name; files with other extensions and hidden files and folders (names starting with a dot)
 * are skipped, as torchvision skips them.
 *
 * <pre>{@code
 * ImageFolder folder = ImageFolder.scan(Path.of("photos"));
 * ImageFolder.Parts parts = folder.split(0.2, 1);                  // seeded, per class
 * Dataset train = parts.train().load(Shape.of(3, 64, 64));       // normalization from these images
 * Dataset val = parts.validation().load(Shape.of(3, 64, 64), train.normalization());
 * }</pre>
 *
 * <p>Loading reads every file through {@link ImageInput} (grayscale or RGB, resized by area
 * averaging), so its rules hold: a damaged, truncated or oversized image is an error naming the
 * file, never a silently skipped or half-grey item. The memory the images need is checked
 * against the heap before anything is allocated. Instances are immutable.
 */
public final class ImageFolder {
    /** The file extensions read, lower case. */
    public static final List<String> EXTENSIONS = List.of("png", "jpg", "jpeg", "gif", "bmp");

    private static final System.Logger LOG = System.getLogger(ImageFolder.class.getName());

    private final Path root;
    private final List<String> classNames;
    private final List<Path> files;
    private final int[] labels;

    private ImageFolder(Path root, List<String> classNames, List<Path> files, int[] labels) {
        this.root = root;
        this.classNames = List.copyOf(classNames);
        this.files = List.copyOf(files);
        this.labels = labels;
    }

    /**
     * The two parts of a {@link #split}.
     *
     * @param train the files to train on
     * @param validation the files held out
     */
    public record Parts(ImageFolder train, ImageFolder validation) {
    }

    /**
     * Lists the classes and image files under {@code root}, sorted. No image is read yet.
     *
     * @param root the folder holding one subfolder per class
     * @return the listing, labelled by the classes' sorted order
     * @throws IOException naming the folder: it is missing or not a folder, has no class
     *     subfolders, a class holds no image file, or a class name holds a control character
     */
    public static ImageFolder scan(Path root) throws IOException {
        List<Path> classDirs = classFolders(root);
        List<String> names = new ArrayList<>();
        for (Path dir : classDirs) {
            String name = dir.getFileName().toString();
            int same = names.indexOf(name);
            if (same >= 0) {
                // Two names of other bytes that the JVM's charset shows alike ("?" or U+FFFD for what it cannot decode).
                throw new IOException(root + ": the class folders " + classDirs.get(same) + " and " + dir + " both read"
                        + " as '" + name + "' in this JVM's charset for file names (" + System.getProperty("sun.jnu.encoding")
                        + "); rename one, or run with a UTF-8 locale (LANG=C.UTF-8)");
            }
            names.add(name);
        }
        return scan(root, classDirs, names);
    }

    /**
     * As {@link #scan(Path)}, labelling each class folder by its index in {@code classNames}
     * (a model's classes) instead of by its own sorted position: for evaluating a model on a
     * folder that holds some or all of its classes.
     *
     * @param root the folder holding one subfolder per class
     * @param classNames the model's classes, in label order
     * @return the listing, labelled by position in classNames
     * @throws IOException as {@link #scan(Path)}, and naming a class folder that is not one of
     *     {@code classNames}
     */
    public static ImageFolder scan(Path root, List<String> classNames) throws IOException {
        List<Path> classDirs = classFolders(root);
        for (Path dir : classDirs) {
            if (!classNames.contains(dir.getFileName().toString())) {
                throw new IOException(dir + ": class '" + dir.getFileName() + "' is not one of the model's classes "
                        + classNames);
            }
        }
        return scan(root, classDirs, classNames);
    }

    private static ImageFolder scan(Path root, List<Path> classDirs, List<String> classNames) throws IOException {
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        int skipped = 0;
        for (Path dir : classDirs) {
            String name = dir.getFileName().toString();
            if (name.chars().anyMatch(Character::isISOControl)) {
                throw new IOException(dir + ": a class folder's name must not hold control characters");
            }
            int before = files.size();
            skipped += walk(dir, files);
            while (labels.size() < files.size()) {
                labels.add(classNames.indexOf(name));
            }
            if (files.size() == before) {
                throw new IOException(dir + ": class '" + name + "' holds no " + String.join(", ", EXTENSIONS)
                        + " file");
            }
        }
        if (skipped > 0) {
            LOG.log(System.Logger.Level.INFO, "{0}: skipped {1} files that are not {2} images", root, skipped,
                    String.join("/", EXTENSIONS));
        }
        return new ImageFolder(root, classNames, files, labels.stream().mapToInt(Integer::intValue).toArray());
    }

    private static List<Path> classFolders(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            throw Files.exists(root) ? new NotDirectoryException(root + ": not a folder")
                    : new IOException(root + ": no such image folder");
        }
        List<Path> dirs;
        try (Stream<Path> list = Files.list(root)) {
            dirs = list.filter(p -> Files.isDirectory(p) && !p.getFileName().toString().startsWith(".")).sorted().toList();
        }
        if (dirs.isEmpty()) {
            throw new IOException(root + ": no class folders; an image folder holds one subfolder per class (e.g. "
                    + root.resolve("cat") + "/1.png, " + root.resolve("dog") + "/2.png)");
        }
        return dirs;
    }

    /**
     * The image files (by {@link #EXTENSIONS}) under {@code folder} at any depth, sorted, hidden
     * files and folders skipped: what {@code predict} reads from a folder.
     *
     * @param folder the folder to search
     * @return the files, sorted by path
     * @throws IOException naming the folder when it is missing, not a folder, or cannot be listed
     */
    public static List<Path> imageFiles(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw Files.exists(folder) ? new NotDirectoryException(folder + ": not a folder")
                    : new IOException(folder + ": no such image folder");
        }
        List<Path> files = new ArrayList<>();
        walk(folder, files);
        return files;
    }

    /** Appends the image files under dir, sorted; returns how many other files it skipped. */
    private static int walk(Path dir, List<Path> images) throws IOException {
        List<Path> all;
        try (Stream<Path> walk = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) {
            all = walk.filter(p -> !hidden(dir, p) && Files.isRegularFile(p)).sorted().toList();
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof FileSystemLoopException loop) {
                throw new IOException(dir + ": the symbolic link " + loop.getFile() + " leads back to a folder that"
                        + " contains it (a loop); remove it or point it elsewhere", loop);
            }
            throw new IOException(dir + ": " + e.getCause().getMessage(), e.getCause());
        }
        int skipped = 0;
        for (Path p : all) {
            if (image(p)) {
                images.add(p);
            } else {
                skipped++;
            }
        }
        return skipped;
    }

    private static boolean hidden(Path classDir, Path p) {
        for (Path part : classDir.relativize(p)) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static boolean image(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** {@return the folder this was scanned from} */
    public Path root() {
        return root;
    }

    /** {@return the class names, unmodifiable; label k is the k-th} */
    public List<String> classNames() {
        return classNames;
    }

    /** {@return the image files, class by class, each class's sorted by path (unmodifiable)} */
    public List<Path> files() {
        return files;
    }

    /** {@return the number of image files} */
    public int size() {
        return files.size();
    }

    /**
     * The label of file {@code index}.
     *
     * @param index the file's position in {@link #files()}
     * @return its class, in [0, classNames().size())
     * @throws ArrayIndexOutOfBoundsException when index is out of range
     */
    public int label(int index) {
        return labels[index];
    }

    /**
     * Splits the files in two, class by class, so both parts keep the class proportions: of each
     * class's n files, round(fraction · n) go to validation, at least one and at most n − 1 when
     * n ≥ 2 (a class of one file stays in training). Which ones is decided by a Fisher–Yates
     * shuffle driven by {@link SplittableRandom}{@code (seed)}, so the same files and seed give
     * the same parts on every machine.
     *
     * @param validationFraction the share held out, in (0, 1)
     * @param seed seeds the choice
     * @return the training part and the validation part, both with all the class names
     * @throws IllegalArgumentException when the fraction is not in (0, 1), or no class has two
     *     files to split
     */
    public Parts split(double validationFraction, long seed) {
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("ImageFolder.split: the validation fraction must be in (0, 1), got "
                    + validationFraction);
        }
        SplittableRandom random = new SplittableRandom(seed);
        boolean[] held = new boolean[size()];
        int start = 0;
        while (start < size()) {
            int end = start;
            while (end < size() && labels[end] == labels[start]) {
                end++;
            }
            int n = end - start;
            int take = n < 2 ? 0 : (int) Math.min(n - 1, Math.max(1, Math.round(validationFraction * n)));
            int[] order = IntStream.range(start, end).toArray();
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int i = 0; i < take; i++) {
                held[order[i]] = true;
            }
            start = end;
        }
        List<Integer> train = new ArrayList<>();
        List<Integer> validation = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            (held[i] ? validation : train).add(i);
        }
        if (validation.isEmpty()) {
            throw new IllegalArgumentException("ImageFolder.split: " + root + " has no class with two files, so nothing"
                    + " can be held out for validation");
        }
        return new Parts(part(train), part(validation));
    }

    /**
     * The files from {@code from} to {@code to} (in {@link #files()} order) with their labels and
     * all the class names: for loading a large folder a part at a time.
     *
     * @param from the first file's index
     * @param to one past the last file's index
     * @return the part, which may be empty
     * @throws IndexOutOfBoundsException when the range is not within [0, size()]
     */
    public ImageFolder slice(int from, int to) {
        java.util.Objects.checkFromToIndex(from, to, size());
        return new ImageFolder(root, classNames, files.subList(from, to), Arrays.copyOfRange(labels, from, to));
    }

    private ImageFolder part(List<Integer> indices) {
        List<Path> f = new ArrayList<>();
        int[] l = new int[indices.size()];
        for (int i = 0; i < l.length; i++) {
            f.add(files.get(indices.get(i)));
            l[i] = labels[indices.get(i)];
        }
        return new ImageFolder(root, classNames, f, l);
    }

    /**
     * Loads every image at {@code shape}, normalized with the mean and standard deviation of
     * these images' values on the [0, 1] scale (one pair for all channels), which the returned
     * dataset records, so that a model trained on it stores them for inference.
     *
     * @param shape (C, H, W) with C = 1 (grayscale) or 3 (RGB)
     * @return the images and labels in {@link #files()} order, with their normalization
     * @throws IOException naming a file that cannot be read as an image
     * @throws IllegalArgumentException when the shape is invalid or the images do not fit the heap
     */
    public Dataset load(Shape shape) throws IOException {
        float[] x = loadValues(shape, Normalization.UNIT_RANGE);
        double sum = 0;
        double sumSquares = 0;
        for (float v : x) {
            sum += v;
            sumSquares += (double) v * v;
        }
        double mean = sum / x.length;
        double std = Math.sqrt(Math.max(0, sumSquares / x.length - mean * mean));
        if (std < 1e-6) {
            LOG.log(System.Logger.Level.WARNING, "{0}: every pixel has the same value {1}; normalizing with std 1",
                    root, mean);
            std = 1;
        }
        Normalization norm = new Normalization(mean, std);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) ((x[i] - mean) / std);
        }
        return new Dataset(x, labels.clone(), shape, classNames, norm);
    }

    /**
     * Loads every image at {@code shape}, normalized with {@code norm} (for validation data, a
     * model's recorded normalization, or that of the training part).
     *
     * @param shape (C, H, W) with C = 1 (grayscale) or 3 (RGB)
     * @param norm how pixel values become inputs
     * @return the images and labels in {@link #files()} order, recording norm
     * @throws IOException naming a file that cannot be read as an image
     * @throws IllegalArgumentException when the shape is invalid or the images do not fit the heap
     */
    public Dataset load(Shape shape, Normalization norm) throws IOException {
        return new Dataset(loadValues(shape, norm), labels.clone(), shape, classNames, norm);
    }

    /**
     * The channels to load these images with when the user did not say: 1 when every file
     * stores a grayscale image, else 3 (torchvision's default loader makes everything RGB).
     * Reads the files' headers only.
     *
     * @return 1 or 3
     * @throws IOException naming the first file that is not a readable image
     */
    public int storedChannels() throws IOException {
        for (Path f : files) {
            if (ImageInput.storedChannels(f) == 3) {
                return 3;
            }
        }
        return 1;
    }

    private float[] loadValues(Shape shape, Normalization norm) throws IOException {
        ImageInput input = ImageInput.builder().shape(shape).normalize(norm).build();
        int perItem = shape.size();
        long values = (long) perItem * size();
        if (values > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(root + ": " + size() + " images of " + shape + " are " + values
                    + " values, more than one array holds (2^31); use a smaller image size or fewer images");
        }
        long bytes = values * Float.BYTES;
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes > free) {
            throw new IllegalArgumentException(root + ": " + size() + " images of " + shape + " need " + (bytes >> 20)
                    + " MB, but the Java heap has " + (free >> 20) + " MB free: give it more with -Xmx or use a"
                    + " smaller image size");
        }
        float[] x = new float[(int) values];
        long started = System.nanoTime();
        try {
            IntStream.range(0, size()).parallel().forEach(i -> {
                try {
                    float[] v = input.load(files.get(i)).values();
                    System.arraycopy(v, 0, x, i * perItem, perItem);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        LOG.log(System.Logger.Level.DEBUG, "{0}: loaded {1} images at {2} in {3} s", root, size(), shape,
                String.format(Locale.ROOT, "%.1f", (System.nanoTime() - started) / 1e9));
        return x;
    }

    /** {@return the number of files of each class, in class order: for summaries} */
    public List<Integer> classCounts() {
        Integer[] counts = new Integer[classNames.size()];
        Arrays.fill(counts, 0);
        for (int l : labels) {
            counts[l]++;
        }
        return List.of(counts);
    }
}
