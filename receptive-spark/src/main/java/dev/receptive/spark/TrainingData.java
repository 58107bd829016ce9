package dev.receptive.spark;

import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Mnist;
import dev.receptive.data.Split;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where executors read the training data: a folder of MNIST-layout IDX files (raw or gzipped)
 * that every executor can read at the same path (a shared file system, or the same files on every
 * host). Each executor JVM reads it once and keeps it in memory; tasks carry only the indices of
 * their samples, never the data.
 */
public final class TrainingData implements Serializable {
    private static final long serialVersionUID = 1L;

    /** "mnist" or "fashion-mnist". */
    private final String kind;
    /** The folder's absolute path, as a string (a Path is not serializable). */
    private final String dir;
    /** Which of the folder's files: training or test. */
    private final Split split;

    private TrainingData(String kind, String dir, Split split) {
        this.kind = kind;
        this.dir = Objects.requireNonNull(dir, "dir");
        this.split = Objects.requireNonNull(split, "split");
    }

    /**
     * MNIST digits from {@code dir}, normalized with MNIST's mean and standard deviation.
     *
     * @param dir the folder with the IDX files, made absolute now; every executor must see it at that path
     * @param split the training or the test files
     * @return the description; nothing is read yet
     */
    public static TrainingData mnist(Path dir, Split split) {
        return new TrainingData("mnist", dir.toAbsolutePath().toString(), split);
    }

    /**
     * Fashion-MNIST from {@code dir}, normalized with Fashion-MNIST's mean and standard deviation.
     *
     * @param dir the folder with the IDX files, made absolute now; every executor must see it at that path
     * @param split the training or the test files
     * @return the description; nothing is read yet
     */
    public static TrainingData fashionMnist(Path dir, Split split) {
        return new TrainingData("fashion-mnist", dir.toAbsolutePath().toString(), split);
    }

    /**
     * Reads the data (what an executor does once).
     *
     * @return the images and labels, normalized
     * @throws IOException naming the file that is missing, damaged or does not fit the other
     */
    public Dataset load() throws IOException {
        Path path = Path.of(dir);
        return kind.equals("mnist") ? Mnist.load(path, split) : FashionMnist.load(path, split);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainingData t && t.kind.equals(kind) && t.dir.equals(dir) && t.split == split;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, dir, split);
    }

    @Override
    public String toString() {
        return kind + " " + split.filePrefix() + " from " + dir;
    }
}
