package dev.receptive.cli;

import dev.receptive.backend.Backend;
import dev.receptive.data.Normalization;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Model;
import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Classify PNG or JPEG images with a model file.",
            "Images are made grayscale, resized to the model's input, inverted when dark on light (mean > 0.5; "
                + "MNIST is light on dark) and normalized as in training.",
            "Prints one line per image: FILE<TAB>CLASS<TAB>PROBABILITY<TAB>class=probability for every class"})
final class PredictCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "A model file (model.safetensors)")
    Path modelPath;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "IMAGE", description = "PNG or JPEG files")
    List<Path> images;

    @Option(names = "--no-invert", description = "Never invert, even dark-on-light images")
    boolean noInvert;

    @Option(names = "--backend", description = "auto, cpu or cuda (default: RECEPTIVE_BACKEND, else auto)")
    String backend;

    @Override
    public Integer call() throws IOException {
        ModelFile.Contents contents = Inputs.modelFile(modelPath);
        for (Path image : images) {
            Inputs.existingFile(image, "image");
        }
        // Everything the user named is checked before a backend is chosen, which may log a line.
        Shape in = Inputs.inputShape(contents);
        if (in.rank() != 3 || in.dim(0) != 1) {
            throw new UsageException(modelPath + ": predict feeds grayscale images (1, H, W), but the model takes " + in);
        }
        int height = in.dim(1);
        int width = in.dim(2);
        Normalization norm = contents.info().normalization();
        if (norm == null) {
            throw new UsageException(modelPath + ": the model file does not record how its inputs were normalized, so"
                    + " images cannot be fed as in training; save models with a normalization (receptive train does)");
        }
        float[][] x = new float[images.size()][height * width];
        boolean[] inverted = new boolean[images.size()];
        for (int i = 0; i < images.size(); i++) {
            Images.Gray g = Images.load(images.get(i), height, width, noInvert ? Boolean.FALSE : null);
            inverted[i] = g.inverted();
            for (int j = 0; j < g.pixels().length; j++) {
                x[i][j] = (float) ((g.pixels()[j] - norm.mean()) / norm.std());
            }
        }
        try (Backend b = Inputs.backend(backend); Model model = Inputs.model(contents, b)) {
            if (model.outputShape().rank() != 1) {
                throw new UsageException(modelPath + ": predict needs one score per class, but the model gives "
                        + model.outputShape());
            }
            int classes = model.outputShape().dim(0);
            List<String> names = classNames(contents.info().classNames(), classes);
            float[][] p;
            try {
                p = model.predictor().probabilities(x);
            } catch (IllegalStateException e) {
                throw new IllegalStateException(modelPath + ": " + e.getMessage(), e);
            }
            for (int i = 0; i < images.size(); i++) {
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    best = p[i][c] > p[i][best] ? c : best;
                }
                StringBuilder all = new StringBuilder();
                for (int c = 0; c < classes; c++) {
                    all.append(c == 0 ? "" : " ").append(names.get(c).replace(' ', '_')).append('=')
                            .append(String.format(Locale.ROOT, "%.4f", p[i][c]));
                }
                System.out.printf(Locale.ROOT, "%s\t%s\t%.4f\t%s%s%n", images.get(i), names.get(best),
                        p[i][best], all, inverted[i] ? "\t(inverted)" : "");
            }
        }
        return Main.OK;
    }

    /** The model's class names, or "0", "1", … when it records none. */
    private static List<String> classNames(List<String> recorded, int classes) {
        if (recorded.size() == classes) {
            return recorded;
        }
        List<String> numbers = new java.util.ArrayList<>();
        for (int c = 0; c < classes; c++) {
            numbers.add(Integer.toString(c));
        }
        return numbers;
    }
}
