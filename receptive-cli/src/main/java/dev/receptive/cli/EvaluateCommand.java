package dev.receptive.cli;

import dev.receptive.backend.Backend;
import dev.receptive.data.DataFolder;
import dev.receptive.data.Dataset;
import dev.receptive.data.ImageFolder;
import dev.receptive.data.Normalization;
import dev.receptive.data.Split;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Model;
import dev.receptive.nn.loss.Loss;
import dev.receptive.tensor.Shape;
import dev.receptive.train.Evaluation;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Accuracy, loss and confusion matrix of a model file on a dataset.",
            "The last line printed is: accuracy=<fraction> loss=<mean cross-entropy>"})
final class EvaluateCommand implements Callable<Integer> {
    /** The image data of one part of an image folder: what evaluating needs stays near this whatever the folder's size. */
    static final long PART_BYTES = 4L << 20;

    @Parameters(index = "0", paramLabel = "MODEL", description = "A model file (model.safetensors) or an ONNX file (NAME.onnx)")
    Path modelPath;

    @Option(names = "--dataset", description = "mnist, fashion-mnist or folder:PATH, an image folder with one subfolder "
            + "per class (default: the one the model was trained on)")
    String dataset;

    @Option(names = "--split", description = "test or train; for folder:PATH all, train or validation, the parts of "
            + "the split the model was trained with (default: test, all for a folder)")
    String split;

    @Option(names = "--data", description = "Data folder holding mnist/ and fashion-mnist/ (default: RECEPTIVE_DATA, "
            + "else ~/.cache/receptive/datasets)")
    Path data;

    @Option(names = "--batch", description = "Batch size, >= 1; more than the images is the images (default: "
            + "${DEFAULT-VALUE})")
    int batch = 256;

    @Option(names = "--backend", description = "auto, cpu or cuda (default: RECEPTIVE_BACKEND, else auto)")
    String backend;

    @Mixin
    InputScaling scaling = new InputScaling();

    @Override
    public Integer call() throws IOException {
        Activity.set("reading the model file " + modelPath);
        ModelFile.Contents contents = scaling.apply(Inputs.modelFile(modelPath), "evaluate");
        String id = dataset != null ? dataset : contents.metadata().getOrDefault(ModelMetadata.DATASET, "mnist");
        Path folder = FolderData.path(id);
        DatasetChoice choice = folder == null ? DatasetChoice.of(id) : null;
        String part = split != null ? split.toLowerCase(Locale.ROOT) : folder == null ? "test" : "all";
        if (folder == null && !part.equals("test") && !part.equals("train")) {
            throw new UsageException("--split must be test or train, got '" + split + "'");
        }
        if (folder != null && !List.of("all", "train", "validation").contains(part)) {
            throw new UsageException("--split must be all, train or validation for an image folder, got '" + split + "'");
        }
        if (batch < 1) {
            throw new UsageException("--batch must be >= 1, got " + batch);
        }
        Normalization norm = contents.model().info().normalization();
        if (norm == null) {
            throw new UsageException(modelPath + ": the model file does not record how its inputs were normalized, so"
                    + " its accuracy cannot be measured faithfully; save models with a normalization (receptive train"
                    + " does)");
        }
        Shape input = contents.model().inputShape();
        String dataName;
        Dataset images = null;
        ImageFolder chosen = null;
        if (folder == null) {
            Path root = data != null ? data : DataFolder.root();
            DataFetch.ensure(choice, root, System.err);
            Activity.set("loading " + choice.id() + " from " + choice.folder(root));
            dataName = choice.id();
            images = choice.load(root, part.equals("test") ? Split.TEST : Split.TRAIN, norm);
            if (!input.equals(images.itemShape())) {
                throw new UsageException(misfit(input, "?", dataName, images.itemShape(), images.classCount()));
            }
        } else {
            if (input.rank() != 3 || (input.dim(0) != 1 && input.dim(0) != 3)) {
                throw new UsageException(modelPath + ": an image folder gives grayscale (1, H, W) or RGB (3, H, W) images,"
                        + " but the model takes " + input);
            }
            Activity.set("reading the image folder " + folder);
            dataName = FolderData.id(folder);
            ImageFolder all = FolderData.scan(folder, contents.model().info().classNames());
            chosen = part.equals("all") ? all : part(all, contents, part);
        }
        int count = images != null ? images.size() : chosen.size();
        int classes = images != null ? images.classCount() : chosen.classNames().size();
        List<String> classNames = images != null ? images.classNames() : chosen.classNames();
        Activity.set("building the model of " + modelPath);
        try (Backend b = Inputs.backend(backend);
                Model model = Inputs.model(contents, b);
                Loss loss = Loss.softmaxCrossEntropy()) {
            if (!model.outputShape().equals(Shape.of(classes))) {
                throw new UsageException(misfit(input, model.outputShape().toString(), dataName, input, classes));
            }
            System.err.println("receptive evaluate: " + modelPath + " on " + dataName + " " + part + " ("
                    + count + " images) on " + b.description());
            Evaluation e;
            if (images != null) {
                Activity.set("evaluating " + count + " images");
                e = Evaluation.of(model, loss, images, Math.min(batch, count));
            } else {
                e = evaluateFolder(model, loss, chosen, input, norm);
            }
            if (!Double.isFinite(e.loss())) {
                // As predict refuses a non-finite probability: an accuracy over such outputs means nothing.
                throw new IllegalStateException(modelPath + ": the model's outputs on " + dataName + " are not finite"
                        + " numbers (mean loss " + e.loss() + "): its weights overflow float32 on these inputs");
            }
            System.out.print(e.confusionTable(classNames));
            System.out.printf(Locale.ROOT, "accuracy=%.4f loss=%.4f%n", e.accuracy(), e.loss());
        }
        return Main.OK;
    }

    /**
     * An image folder of any size, a part of {@link #PART_BYTES} at a time: each part is loaded,
     * evaluated and dropped, so memory does not grow with the folder.
     */
    private Evaluation evaluateFolder(Model model, Loss loss, ImageFolder folder, Shape input, Normalization norm) {
        int part = (int) Math.max(1, Math.min(folder.size(), PART_BYTES / ((long) Float.BYTES * input.size())));
        int classes = folder.classNames().size();
        int[][] confusion = new int[classes][classes];
        double lossSum = 0;
        for (int from = 0; from < folder.size(); from += part) {
            int to = Math.min(folder.size(), from + part);
            Activity.set("loading images " + (from + 1) + " to " + to + " of " + folder.size() + " at " + input);
            Dataset images = FolderData.load(folder.slice(from, to), input, norm);
            Activity.set("evaluating images " + (from + 1) + " to " + to + " of " + folder.size());
            Evaluation e = Evaluation.of(model, loss, images, Math.min(batch, images.size()));
            lossSum += e.loss() * images.size();
            for (int a = 0; a < classes; a++) {
                for (int p = 0; p < classes; p++) {
                    confusion[a][p] += e.confusion()[a][p];
                }
            }
        }
        int correct = 0;
        for (int c = 0; c < classes; c++) {
            correct += confusion[c][c];
        }
        return new Evaluation(lossSum / folder.size(), (double) correct / folder.size(), confusion);
    }

    /** The training or validation part of the split recorded in the model file. */
    private ImageFolder part(ImageFolder all, ModelFile.Contents contents, String part) {
        String recorded = contents.metadata().get(FolderData.SPLIT);
        String[] fractionSeed = recorded == null ? new String[0] : recorded.split(",", -1);
        double fraction;
        long seed;
        try {
            fraction = Double.parseDouble(fractionSeed[0]);
            seed = Long.parseLong(fractionSeed[1]);
        } catch (RuntimeException e) {
            throw new UsageException(modelPath + ": --split " + part + " needs the validation split the model was "
                    + "trained with, but the file records " + (recorded == null ? "none" : "'" + recorded + "'")
                    + "; use --split all", e);
        }
        ImageFolder.Parts parts = FolderData.split(all, fraction, seed);
        return part.equals("train") ? parts.train() : parts.validation();
    }

    private String misfit(Shape input, String output, String dataName, Shape images, int classes) {
        return modelPath + ": the model takes " + input + (output.equals("?") ? "" : " and gives " + output) + ", but "
                + dataName + " has " + images + " images in " + classes + " classes";
    }
}
