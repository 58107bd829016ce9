package dev.receptive.cli;

import dev.receptive.backend.Backend;
import dev.receptive.data.DataFolder;
import dev.receptive.data.Dataset;
import dev.receptive.data.ImageFolder;
import dev.receptive.data.Split;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.train.Checkpoint;
import dev.receptive.train.Evaluation;
import dev.receptive.train.Metrics;
import dev.receptive.train.RunFolder;
import dev.receptive.train.Trainer;
import dev.receptive.zoo.Zoo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a network (the seed network by default: conv5x5x32, pool, conv5x5x64, pool, dense 1024, "
            + "dropout 0.5, dense 10; or a ResNet, or your own architecture JSON), validating on the test set after each "
            + "epoch and keeping the best epoch's model.",
            "The last line printed is: test_accuracy=<fraction> epoch_seconds=<mean training seconds per epoch>"})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--model", description = "seednet, resnet8, resnet14, resnet20, or an architecture JSON file "
            + "(its own seed decides the initial weights) (default: ${DEFAULT-VALUE})")
    String modelName = "seednet";

    @Mixin
    TrainingOptions training = new TrainingOptions();

    @Option(names = "--dataset", description = "mnist, fashion-mnist, or folder:PATH, an image folder with one "
            + "subfolder per class of PNG/JPEG/GIF/BMP files (default: ${DEFAULT-VALUE})")
    String dataset = "mnist";

    @Option(names = "--val-split", paramLabel = "FRACTION", description = "With folder:PATH: the share of each class "
            + "held out for validation, chosen by --seed (default: ${DEFAULT-VALUE})")
    double valSplit = 0.2;

    @Option(names = "--image-size", paramLabel = "N|HxW", description = "With folder:PATH: resize images to this "
            + "(default: the --model JSON's input, else 28)")
    String imageSize;

    @Option(names = "--channels", description = "With folder:PATH: 1 (grayscale) or 3 (RGB) (default: the --model "
            + "JSON's input, else 1 when every image is grayscale, else 3)")
    Integer channels;

    @Option(names = "--epochs", description = "Epochs in all, counting those of --resume (default: ${DEFAULT-VALUE})")
    int epochs = 3;

    @Option(names = "--batch", description = "Batch size (default: 64, or the checkpoint's with --resume)")
    Integer batch;

    @Option(names = "--lr", description = "Learning rate (default: 0.001, or the checkpoint's with --resume)")
    Double lr;

    @Option(names = "--seed", description = "Seeds the weights, dropout and shuffling (default: 1, or the checkpoint's)")
    Long seed;

    @Option(names = "--backend", description = "auto, cpu or cuda (default: RECEPTIVE_BACKEND, else auto)")
    String backend;

    @Option(names = "--data", description = "Data folder holding mnist/ and fashion-mnist/ (default: RECEPTIVE_DATA, "
            + "else ~/.cache/receptive/datasets)")
    Path data;

    @Option(names = "--out", description = "Run folder for checkpoint, metrics, curves and model "
            + "(default: a new runs/<timestamp>, also with --resume); it must not hold another run's checkpoint")
    Path out;

    @Option(names = "--allow-changed-settings", description = "With --resume: go on although the training settings "
            + "(--lr, --optimizer, --schedule, --augment, ...) differ from the checkpoint's")
    boolean allowChangedSettings;

    @Option(names = "--resume", paramLabel = "CHECKPOINT", description = "Go on from a checkpoint.safetensors")
    Path resume;

    @Option(names = "--limit", paramLabel = "N", description = "Train on the first N training images only")
    Integer limit;

    @Option(names = "--init", paramLabel = "MODEL", description = "Fine-tune: start from the architecture and weights "
            + "of a model file or an ONNX file (NAME.onnx) instead of --model; it must give one output per class")
    Path init;

    @Spec
    CommandSpec spec;

    /** The model of --init, read once. */
    private ModelDescription initial;

    @Override
    public Integer call() throws IOException {
        Path folder = FolderData.path(dataset);
        DatasetChoice choice = folder == null ? DatasetChoice.of(dataset) : null;
        if (folder == null && (imageSize != null || channels != null)) {
            throw new UsageException("--image-size and --channels apply to --dataset folder:PATH only; " + dataset
                    + " has 1x28x28 images");
        }
        if (!(valSplit > 0 && valSplit < 1)) {
            throw new UsageException("--val-split must be a fraction in (0, 1), got " + valSplit);
        }
        if (epochs < 1) {
            throw new UsageException("--epochs must be >= 1, got " + epochs);
        }
        if (limit != null && limit < 1) {
            throw new UsageException("--limit must be >= 1, got " + limit);
        }
        Checkpoint checkpoint = resume == null ? null : readCheckpoint();
        long runSeed = seed != null ? seed : checkpoint != null ? checkpoint.seed() : 1;
        int batchSize = batch != null ? batch : checkpoint != null ? checkpoint.batchSize() : 64;
        if (batchSize < 1) {
            throw new UsageException("--batch must be >= 1, got " + batchSize);
        }
        double rate = lr != null ? lr : checkpoint != null && checkpoint.settings().containsKey("lr")
                ? Double.parseDouble(checkpoint.settings().get("lr")) : 1e-3;
        Inputs.positive("--lr", rate);
        training.check(batchSize, epochs);
        String architecture = checkpoint != null ? null : architectureFile();
        Path runDir = runFolder();
        String dataName;
        Dataset train;
        Dataset test;
        Map<String, String> metadata;
        if (folder == null) {
            Path root = data != null ? data : DataFolder.root();
            DataFetch.ensure(choice, root, System.err);
            Activity.set("loading " + choice.id() + " from " + choice.folder(root));
            dataName = choice.id();
            train = choice.load(root, Split.TRAIN);
            if (limit != null && limit < train.size()) {
                train = train.subset(0, limit);
            }
            test = choice.load(root, Split.TEST);
            metadata = ModelMetadata.of(choice);
        } else {
            if (data != null) {
                throw new UsageException("--data names the folder of mnist and fashion-mnist; with folder:PATH the path"
                        + " is the data");
            }
            Activity.set("reading the image folder " + folder);
            dataName = FolderData.id(folder);
            ImageFolder.Parts parts = FolderData.split(FolderData.scan(folder), valSplit, runSeed);
            Shape modelInput = checkpoint != null ? checkpoint.model().inputShape()
                    : architecture != null ? Inputs.inputShape(architecture, modelName) : null;
            Shape shape = FolderData.shape(channels, imageSize, modelInput, parts.train());
            Activity.set("loading " + parts.train().size() + " images of " + folder + " at " + shape);
            train = FolderData.load(parts.train(), shape);
            if (limit != null && limit < train.size()) {
                train = train.subset(0, limit);
            }
            test = FolderData.load(parts.validation(), shape, train.normalization());
            metadata = Map.of(ModelMetadata.DATASET, dataName, FolderData.SPLIT,
                    String.format(Locale.ROOT, "%s,%d", valSplit, runSeed));
        }
        if (train.size() < batchSize) {
            throw new UsageException("the training set has " + train.size() + " images, fewer than one batch of "
                    + batchSize);
        }
        if (checkpoint != null) {
            checkResume(checkpoint, runSeed, batchSize, train.size());
        }

        try (Backend b = Inputs.backend(backend)) {
            System.err.println("receptive train: " + dataName + " (" + train.size() + " training, " + test.size()
                    + (folder == null ? " test images" : " validation images of " + train.itemShape() + " in "
                    + train.classCount() + " classes") + ") on " + b.description() + "; run folder " + runDir);
            Activity.set("building the model on " + b.name());
            try (Model model = checkpoint != null ? fromCheckpoint(checkpoint, b)
                    : newModel(architecture, train.itemShape(), train.classCount(), runSeed, b);
                    Loss loss = training.loss();
                    Optimizer adam = training.optimizer(rate)) {
                if (!model.inputShape().equals(train.itemShape()) || !model.outputShape().equals(Shape.of(train.classCount()))) {
                    throw new UsageException("the model takes " + model.inputShape() + " and gives "
                            + model.outputShape() + ", but " + dataName + " has " + train.itemShape()
                            + " images in " + train.classCount() + " classes");
                }
                Trainer.Builder builder = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(epochs)
                        .batchSize(batchSize).seed(runSeed).validation(test).outputDir(runDir)
                        .resume(checkpoint).listener(new TrainingDisplay(System.err, System.out))
                        .modelMetadata(metadata).schedule(training.schedule(epochs))
                        .augmentation(training.augmentation()).accumulationSteps(training.accumulate);
                if (training.patience != null) {
                    builder.earlyStopping(training.patience);
                }
                if (allowChangedSettings) {
                    builder.allowChangedSettings();
                }
                Trainer trainer = builder.build();
                Activity.set("training on " + train.size() + " images in batches of " + batchSize);
                List<Metrics> history;
                try {
                    history = trainer.fit(train);
                } catch (IllegalArgumentException e) {
                    if (checkpoint != null && e.getMessage().contains("settings differ")) {
                        throw new UsageException(e.getMessage().replace("allow changed settings", "--allow-changed-settings"),
                                e);
                    }
                    throw e;
                }
                Path modelFile = runDir.resolve(RunFolder.MODEL);
                Evaluation last = trainer.lastValidation();
                if (last != null) {
                    System.out.print(last.confusionTable(train.classNames()));
                }
                System.out.println("model saved to " + modelFile + " (epoch " + trainer.bestEpoch() + ", the best by "
                        + (folder == null ? "test" : "validation") + " accuracy)");
                Metrics m = history.get(history.size() - 1);
                double epochSeconds = history.stream().mapToDouble(Metrics::seconds).average().orElse(Double.NaN);
                System.out.printf(Locale.ROOT, "test_accuracy=%.4f epoch_seconds=%.2f%n", m.valAccuracy(), epochSeconds);
            }
        }
        return Main.OK;
    }

    /**
     * --out, or a new runs/&lt;timestamp&gt; folder (also when resuming, so another run's files are
     * never overwritten); checked before any data is read. A folder that holds a checkpoint is
     * refused unless it is the one being resumed.
     */
    private Path runFolder() {
        Path dir = out;
        if (dir == null) {
            String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm-ss"));
            dir = Path.of("runs", stamp);
            for (int i = 2; Files.exists(dir); i++) {
                dir = Path.of("runs", stamp + "-" + i);
            }
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new UsageException("--out " + dir + " is a file, not a folder");
        }
        Path existing = dir.resolve(RunFolder.CHECKPOINT);
        if (Files.exists(existing)) {
            boolean same;
            try {
                same = resume != null && Files.isSameFile(existing, resume);
            } catch (IOException e) {
                same = false;
            }
            if (!same) {
                throw new UsageException("--out " + dir + " holds the checkpoint of another run; choose a new folder (or"
                        + " resume from " + existing + ")");
            }
        }
        Path parent = dir.toAbsolutePath().getParent();
        while (parent != null && !Files.exists(parent)) {
            parent = parent.getParent();
        }
        if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
            throw new UsageException("--out " + dir + " cannot be created: " + (parent == null ? "no existing parent"
                    : parent + " is not a writable folder"));
        }
        return dir;
    }

    /** The architecture JSON of --model when it names a file, else null (a zoo model); checked before training. */
    private String architectureFile() {
        if (init != null) {
            return initial().architecture();
        }
        if (Zoo.NAMES.contains(modelName.toLowerCase(Locale.ROOT))) {
            return null;
        }
        Path file = Path.of(modelName);
        if (!Files.isRegularFile(file)) {
            throw new UsageException("--model must be " + String.join(", ", Zoo.NAMES) + " or an architecture JSON file, "
                    + "got '" + modelName + "'" + (Files.exists(file) ? " (not a file)" : ""));
        }
        try {
            if (Files.size(file) > (1 << 20)) {
                throw new UsageException("--model " + file + " is larger than 1 MiB: not an architecture");
            }
            return Files.readString(file);
        } catch (IOException e) {
            throw new UsageException("--model " + file + ": " + e.getMessage(), e);
        }
    }

    private Model newModel(String architecture, Shape input, int classes, long runSeed, Backend b) {
        if (init != null) {
            return initial().place(b);
        }
        try {
            return architecture == null ? Zoo.build(modelName, input, classes, b, runSeed)
                    : Model.fromArchitecture(architecture, b);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--model " + modelName + ": " + e.getMessage(), e);
        }
    }

    /** The model file or ONNX file of --init, which replaces --model. */
    private ModelDescription initial() {
        if (initial == null) {
            if (spec.commandLine().getParseResult().hasMatchedOption("--model")) {
                throw new UsageException("--init " + init + " gives the architecture; leave out --model " + modelName);
            }
            Activity.set("reading the model file " + init);
            initial = Inputs.modelFile(init).model();
        }
        return initial;
    }

    private Checkpoint readCheckpoint() {
        if (init != null) {
            throw new UsageException("--init starts a new run; --resume " + resume + " goes on with the checkpoint's"
                    + " own model");
        }
        Inputs.existingFile(resume, "checkpoint");
        Activity.set("reading the checkpoint " + resume);
        try {
            return Checkpoint.read(resume);
        } catch (IOException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /** The checkpoint's network, with fresh weights: the trainer loads the checkpoint's. */
    private Model fromCheckpoint(Checkpoint c, Backend b) {
        try {
            return c.model().place(b);
        } catch (IllegalArgumentException e) {
            throw new UsageException(resume + ": " + e.getMessage(), e);
        }
    }

    /** A bit-exact resume needs the checkpoint's seed, batch size and training set. */
    private void checkResume(Checkpoint c, long runSeed, int batchSize, int trainSize) {
        if (c.seed() != runSeed) {
            throw new UsageException("--seed " + runSeed + " differs from the checkpoint's seed " + c.seed());
        }
        if (c.batchSize() != batchSize) {
            throw new UsageException("--batch " + batchSize + " differs from the checkpoint's batch size " + c.batchSize());
        }
        if (c.trainSize() != trainSize) {
            throw new UsageException("the checkpoint was trained on " + c.trainSize() + " images, this run has "
                    + trainSize + " (use the same --dataset, --val-split and --limit)");
        }
    }
}
