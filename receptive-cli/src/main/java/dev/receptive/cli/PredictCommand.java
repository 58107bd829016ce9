package dev.receptive.cli;

import dev.receptive.backend.Backend;
import dev.receptive.data.ImageInput;
import dev.receptive.data.Normalization;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Model;
import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Classify PNG, JPEG, GIF or BMP images with a model file.",
            "Images are made grayscale (or RGB for a 3-channel model), resized to the model's input, inverted when "
                + "dark on light for a grayscale model trained on MNIST-like data (mean > 0.5; MNIST is light on dark) "
                + "and normalized as in training. Images larger "
                + "than 8192x8192 pixels and damaged images are refused.",
            "Prints one line per image: FILE<TAB>CLASS<TAB>PROBABILITY<TAB>class=probability for every class. "
                + "A tab, newline, carriage return or backslash in a file or class name is printed as \\t, \\n, "
                + "\\r or \\\\, other control characters as \\uXXXX."})
final class PredictCommand implements Callable<Integer> {
    /**
     * The input values of one part of the images: what a part needs (these, their batch, the
     * model's activations) is a few times this, however many images are named.
     */
    static final long PART_BYTES = 2L << 20;
    /** At most this many images per part, so that lines come out steadily. */
    static final int MAX_PART = 256;

    @Parameters(index = "0", paramLabel = "MODEL", description = "A model file (model.safetensors) or an ONNX file (NAME.onnx)")
    Path modelPath;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "IMAGE", description = "PNG, JPEG, GIF or BMP files")
    List<Path> images = new ArrayList<>();

    @Option(names = "--dataset", paramLabel = "folder:PATH", description = "Also classify every image file under PATH "
            + "(any depth, sorted), such as an image folder's class subfolders")
    String dataset;

    @Option(names = "--no-invert", description = "Never invert, even dark-on-light images (models trained on an image "
            + "folder or on RGB images are never inverted)")
    boolean noInvert;

    @Option(names = "--backend", description = "auto, cpu or cuda (default: RECEPTIVE_BACKEND, else auto)")
    String backend;

    @Mixin
    InputScaling scaling = new InputScaling();

    @Override
    public Integer call() throws IOException {
        Activity.set("reading the model file " + modelPath);
        ModelFile.Contents contents = scaling.apply(Inputs.modelFile(modelPath), "predict");
        for (Path image : images) {
            Inputs.existingFile(image, "image");
        }
        if (dataset != null) {
            Path folder = FolderData.path(dataset);
            if (folder == null) {
                throw new UsageException("--dataset must be folder:PATH, got '" + dataset + "'");
            }
            images = new ArrayList<>(images);
            images.addAll(FolderData.images(folder));
        }
        if (images.isEmpty()) {
            throw new UsageException("no images: name image files, or a folder with --dataset folder:PATH");
        }
        // Everything the user named is checked before a backend is chosen, which may log a line.
        Shape in = contents.model().inputShape();
        if (in.rank() != 3 || (in.dim(0) != 1 && in.dim(0) != 3)) {
            throw new UsageException(modelPath + ": predict feeds grayscale (1, H, W) or RGB (3, H, W) images, but the "
                    + "model takes " + in);
        }
        Normalization norm = contents.model().info().normalization();
        if (norm == null) {
            throw new UsageException(modelPath + ": the model file does not record how its inputs were normalized, so"
                    + " images cannot be fed as in training; save models with a normalization (receptive train does)");
        }
        ImageInput reader;
        try {
            reader = ImageInput.builder().shape(in).normalize(norm)
                    .invert(invert(contents, in)).build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(modelPath + ": " + e.getMessage(), e);
        }
        // The first part is read before a backend is chosen, so that a bad image among a few is
        // reported before anything else; a long list is then read a part at a time, never whole.
        int part = (int) Math.max(1, Math.min(MAX_PART, PART_BYTES / ((long) Float.BYTES * in.size())));
        Part p = read(reader, 0, Math.min(part, images.size()));
        Activity.set("building the model of " + modelPath);
        try (Backend b = Inputs.backend(backend); Model model = Inputs.model(contents, b)) {
            if (model.outputShape().rank() != 1) {
                throw new UsageException(modelPath + ": predict needs one score per class, but the model gives "
                        + model.outputShape());
            }
            int classes = model.outputShape().dim(0);
            List<String> names = classNames(contents.model().info().classNames(), classes);
            for (int from = 0; from < images.size(); from += part) {
                if (from > 0) {
                    p = read(reader, from, Math.min(images.size(), from + part));
                }
                Activity.set("classifying images " + (from + 1) + " to " + (from + p.x.length) + " of "
                        + images.size());
                float[][] probabilities;
                try {
                    probabilities = model.predictor().probabilities(p.x);
                } catch (IllegalStateException e) {
                    throw new IllegalStateException(modelPath + ": " + e.getMessage(), e);
                }
                print(from, probabilities, p.inverted, names);
            }
        }
        return Main.OK;
    }

    /** Images [from, to) as the model's inputs, and which were inverted. */
    private record Part(float[][] x, boolean[] inverted) {
    }

    private Part read(ImageInput reader, int from, int to) {
        float[][] x = new float[to - from][];
        boolean[] inverted = new boolean[to - from];
        for (int i = from; i < to; i++) {
            Activity.set("reading the image " + images.get(i));
            try {
                ImageInput.Loaded image = reader.load(images.get(i));
                inverted[i - from] = image.inverted();
                x[i - from] = image.values();
            } catch (IOException e) {
                throw new UsageException(e.getMessage(), e);
            }
        }
        return new Part(x, inverted);
    }

    private void print(int from, float[][] p, boolean[] inverted, List<String> names) {
        int classes = names.size();
        for (int i = 0; i < p.length; i++) {
            int best = 0;
            for (int c = 1; c < classes; c++) {
                best = p[i][c] > p[i][best] ? c : best;
            }
            StringBuilder all = new StringBuilder();
            for (int c = 0; c < classes; c++) {
                all.append(c == 0 ? "" : " ").append(Tsv.escape(names.get(c)).replace(' ', '_')).append('=')
                        .append(String.format(Locale.ROOT, "%.4f", p[i][c]));
            }
            System.out.printf(Locale.ROOT, "%s\t%s\t%.4f\t%s%s%n", Tsv.escape(images.get(from + i).toString()),
                    Tsv.escape(names.get(best)), p[i][best], all, inverted[i] ? "\t(inverted)" : "");
        }
    }

    /**
     * AUTO for a grayscale model trained on MNIST-like data (light on dark, while a digit drawn
     * on paper is dark on light); NEVER with --no-invert, for RGB models and for models trained
     * on an image folder, whose images are fed as they are.
     */
    private ImageInput.Invert invert(ModelFile.Contents contents, Shape in) {
        String trainedOn = contents.metadata().getOrDefault(ModelMetadata.DATASET, "");
        boolean asIs = noInvert || in.dim(0) != 1 || FolderData.path(trainedOn) != null;
        return asIs ? ImageInput.Invert.NEVER : ImageInput.Invert.AUTO;
    }

    /** The model's class names, or "0", "1", … when it records none. */
    private static List<String> classNames(List<String> recorded, int classes) {
        if (recorded.size() == classes) {
            return recorded;
        }
        List<String> numbers = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            numbers.add(Integer.toString(c));
        }
        return numbers;
    }
}
