package dev.receptive.cli;

import dev.receptive.backend.Backend;
import dev.receptive.data.DataFolder;
import dev.receptive.data.Dataset;
import dev.receptive.data.Normalization;
import dev.receptive.data.Split;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Model;
import dev.receptive.nn.loss.Loss;
import dev.receptive.tensor.Shape;
import dev.receptive.train.Evaluation;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Accuracy, loss and confusion matrix of a model file on a dataset.",
            "The last line printed is: accuracy=<fraction> loss=<mean cross-entropy>"})
final class EvaluateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "A model file (model.safetensors)")
    Path modelPath;

    @Option(names = "--dataset", description = "mnist or fashion-mnist (default: the one the model was trained on)")
    String dataset;

    @Option(names = "--split", description = "test or train (default: ${DEFAULT-VALUE})")
    String split = "test";

    @Option(names = "--data", description = "Data folder holding mnist/ and fashion-mnist/ (default: RECEPTIVE_DATA, "
            + "else ~/.cache/receptive/datasets)")
    Path data;

    @Option(names = "--batch", description = "Batch size (default: ${DEFAULT-VALUE})")
    int batch = 256;

    @Option(names = "--backend", description = "auto, cpu or cuda (default: RECEPTIVE_BACKEND, else auto)")
    String backend;

    @Override
    public Integer call() throws IOException {
        Activity.set("reading the model file " + modelPath);
        ModelFile.Contents contents = Inputs.modelFile(modelPath);
        String id = dataset != null ? dataset : contents.metadata().getOrDefault(ModelMetadata.DATASET, "mnist");
        DatasetChoice choice = DatasetChoice.of(id);
        Split which = switch (split.toLowerCase(Locale.ROOT)) {
            case "test" -> Split.TEST;
            case "train" -> Split.TRAIN;
            default -> throw new UsageException("--split must be test or train, got '" + split + "'");
        };
        if (batch < 1) {
            throw new UsageException("--batch must be >= 1, got " + batch);
        }
        Path root = data != null ? data : DataFolder.root();
        DataFetch.ensure(choice, root, System.err);
        Normalization norm = contents.info().normalization();
        if (norm == null) {
            throw new UsageException(modelPath + ": the model file does not record how its inputs were normalized, so"
                    + " its accuracy cannot be measured faithfully; save models with a normalization (receptive train"
                    + " does)");
        }
        Activity.set("loading " + choice.id() + " from " + choice.folder(root));
        Dataset images = choice.load(root, which, norm);
        Shape input = Inputs.inputShape(contents);
        if (!input.equals(images.itemShape())) {
            throw new UsageException(misfit(input, "?", choice, images));
        }
        Activity.set("building the model of " + modelPath);
        try (Backend b = Inputs.backend(backend);
                Model model = Inputs.model(contents, b);
                Loss loss = Loss.softmaxCrossEntropy()) {
            if (!model.outputShape().equals(Shape.of(images.classCount()))) {
                throw new UsageException(misfit(input, model.outputShape().toString(), choice, images));
            }
            System.err.println("receptive evaluate: " + modelPath + " on " + choice.id() + " " + split + " ("
                    + images.size() + " images) on " + b.description());
            Activity.set("evaluating " + images.size() + " images");
            Evaluation e = Evaluation.of(model, loss, images, Math.min(batch, images.size()));
            System.out.print(e.confusionTable(choice.classNames()));
            System.out.printf(Locale.ROOT, "accuracy=%.4f loss=%.4f%n", e.accuracy(), e.loss());
        }
        return Main.OK;
    }

    private String misfit(Shape input, String output, DatasetChoice choice, Dataset images) {
        return modelPath + ": the model takes " + input + (output.equals("?") ? "" : " and gives " + output) + ", but "
                + choice.id() + " has " + images.itemShape() + " images in " + images.classCount() + " classes";
    }
}
