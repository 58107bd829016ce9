package dev.receptive.cli;

import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Mnist;
import dev.receptive.data.Normalization;
import dev.receptive.data.Split;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The datasets the command line knows, each in its subfolder of the data folder. */
enum DatasetChoice {
    MNIST("mnist", Mnist.CLASS_NAMES, Normalization.MNIST),
    FASHION_MNIST("fashion-mnist", FashionMnist.CLASS_NAMES, Normalization.FASHION_MNIST);

    private final String id;
    private final List<String> classNames;
    private final Normalization normalization;

    DatasetChoice(String id, List<String> classNames, Normalization normalization) {
        this.id = id;
        this.classNames = classNames;
        this.normalization = normalization;
    }

    /** "mnist" or "fashion-mnist": the name on the command line and of the subfolder. */
    String id() {
        return id;
    }

    List<String> classNames() {
        return classNames;
    }

    Normalization normalization() {
        return normalization;
    }

    static DatasetChoice of(String id) {
        for (DatasetChoice d : values()) {
            if (d.id.equals(id.toLowerCase(Locale.ROOT))) {
                return d;
            }
        }
        throw new UsageException("unknown dataset '" + id + "': use mnist, fashion-mnist or folder:PATH");
    }

    Path folder(Path dataRoot) {
        return dataRoot.resolve(id);
    }

    Dataset load(Path dataRoot, Split split) throws IOException {
        return load(dataRoot, split, normalization);
    }

    Dataset load(Path dataRoot, Split split, Normalization norm) throws IOException {
        return this == MNIST ? Mnist.load(folder(dataRoot), split, norm) : FashionMnist.load(folder(dataRoot), split, norm);
    }

    /** The IDX files (raw or .gz) missing from this dataset's folder, by their raw names. */
    List<String> missingFiles(Path dataRoot) {
        List<String> missing = new ArrayList<>();
        for (Split split : Split.values()) {
            for (String kind : List.of("-images-idx3-ubyte", "-labels-idx1-ubyte")) {
                String name = split.filePrefix() + kind;
                Path raw = folder(dataRoot).resolve(name);
                if (!Files.isRegularFile(raw) && !Files.isRegularFile(raw.resolveSibling(name + ".gz"))) {
                    missing.add(name);
                }
            }
        }
        return missing;
    }
}
