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
import dev.receptive.io.Safetensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
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
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a network (the seed network by default: conv5x5x32, pool, conv5x5x64, pool, dense 1024, "
            + "dropout 0.5, dense 10; or a ResNet, or your own architecture JSON), validating on the test set after each "
            + "epoch and keeping the best epoch's model.",
            "The last line printed is: test_accuracy=<fraction> epoch_seconds=<mean training seconds per epoch>"})
final class TrainCommand implements Callable<Integer> {
    /** Far more than any real architecture: a chain of 100,000 layers is about 3 MiB. */
    private static final long MAX_ARCHITECTURE_BYTES = 16 << 20;
    private static final int MAX_EPOCHS = 100_000;

    @Option(names = "--model", description = "seednet, resnet8, resnet14, resnet20, or an architecture JSON file "
            + "(its own seed decides the initial weights); not with --resume, whose checkpoint holds the model "
            + "(default: seednet)")
    String modelOption;

    @Mixin
    TrainingOptions training = new TrainingOptions();

    @Option(names = "--dataset", description = "mnist, fashion-mnist, or folder:PATH, an image folder with one "
            + "subfolder per class of PNG/JPEG/GIF/BMP files (default: ${DEFAULT-VALUE})")
    String dataset = "mnist";

    @Option(names = "--val-split", paramLabel = "FRACTION", description = "With folder:PATH: the share of each class "
            + "held out for validation, in (0, 1), chosen by --seed (default: 0.2)")
    Double valSplitOption;

    @Option(names = "--image-size", paramLabel = "N|HxW", description = "With folder:PATH: resize images to this "
            + "(default: the --model JSON's input, else 28)")
    String imageSize;

    @Option(names = "--channels", description = "With folder:PATH: 1 (grayscale) or 3 (RGB) (default: the --model "
            + "JSON's input, else 1 when every image is grayscale, else 3)")
    Integer channels;

    @Option(names = "--epochs", description = "Epochs in all, counting those of --resume, from 1 to 100000 "
            + "(default: ${DEFAULT-VALUE})")
    int epochs = 3;

    @Option(names = "--batch", description = "Batch size, from 1 to the training set's size (default: 64, or the "
            + "checkpoint's with --resume)")
    Integer batch;

    @Option(names = "--lr", description = "Learning rate, from 1e-10 to 100 (default: 0.001, or the checkpoint's with "
            + "--resume)")
    Double lr;

    @Option(names = "--seed", description = "Seeds the weights, dropout and shuffling (default: 1, or the checkpoint's)")
    Long seed;

    @Option(names = "--backend", description = "auto, cpu or cuda (default: RECEPTIVE_BACKEND, else auto)")
    String backend;

    @Option(names = "--precision", description = "fp32, tf32 or bf16: the math of convolutions and GEMMs on CUDA; weights,"
            + " optimizer state, batch norm and loss stay fp32 (default: fp32, bit-reproducible)")
    String precision;

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

    /** The model of --init, read once. */
    private ModelDescription initial;

    @Override
    public Integer call() throws IOException {
        Inputs.precision(precision); // a bad mode is refused before any data loads
        Path folder = FolderData.path(dataset);
        DatasetChoice choice = folder == null ? DatasetChoice.of(dataset) : null;
        if (folder == null && (imageSize != null || channels != null)) {
            throw new UsageException("--image-size and --channels apply to --dataset folder:PATH only; " + dataset
                    + " has 1x28x28 images");
        }
        if (folder == null && valSplitOption != null) {
            throw new UsageException("--val-split applies to --dataset folder:PATH only; " + dataset + " has its own"
                    + " test set");
        }
        double valSplit = valSplitOption != null ? valSplitOption : 0.2;
        if (!(valSplit > 0 && valSplit < 1)) {
            throw new UsageException("--val-split must be a fraction in (0, 1), got " + valSplit);
        }
        if (epochs < 1 || epochs > MAX_EPOCHS) {
            throw new UsageException("--epochs must be from 1 to " + MAX_EPOCHS + ", got " + epochs);
        }
        if (allowChangedSettings && resume == null) {
            throw new UsageException("--allow-changed-settings applies to --resume only");
        }
        if (limit != null && limit < 1) {
            throw new UsageException("--limit must be >= 1, got " + limit);
        }
        if (modelOption != null && resume != null) {
            throw new UsageException("--model and --resume conflict: the checkpoint holds its model; leave out --model"
                    + " to resume, or --resume to train " + modelOption + " from the start");
        }
        Checkpoint checkpoint = resume == null ? null : readCheckpoint();
        long runSeed = seed != null ? seed : checkpoint != null ? checkpoint.seed() : 1;
        int batchSize = batch != null ? batch : checkpoint != null ? checkpoint.batchSize() : 64;
        if (batchSize < 1) {
            throw new UsageException("--batch must be >= 1, got " + batchSize);
        }
        double rate = lr != null ? lr : checkpoint != null && checkpoint.settings().containsKey("lr")
                ? Double.parseDouble(checkpoint.settings().get("lr")) : 1e-3;
        TrainingOptions.checkLearningRate(rate);
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
            training.checkCropPadding(train.itemShape());
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
                    : architecture != null ? Inputs.inputShape(architecture, modelName()) : null;
            Shape shape = FolderData.shape(channels, imageSize, modelInput, parts.train());
            training.checkCropPadding(shape);
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
        if ((long) epochs * (train.size() / batchSize) > Integer.MAX_VALUE) {
            // Steps are counted in an int: they key the dropout masks and the checkpoint.
            throw new UsageException("--epochs " + epochs + " of " + train.size() / batchSize + " steps each are more"
                    + " than 2^31 - 1 steps; use fewer epochs or a larger --batch");
        }
        if (checkpoint != null) {
            checkResume(checkpoint, runSeed, batchSize, train.size());
        }

        try (Backend b = Inputs.backend(backend, precision)) {
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
                Path modelFile = verifiedModel(runDir);
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
     * The run folder's model file, read back whole and its checksums checked: "saved" is said of
     * a file that is on disk as it was meant to be, never of one that is missing or damaged.
     */
    private static Path verifiedModel(Path runDir) throws IOException {
        Path modelFile = runDir.resolve(RunFolder.MODEL);
        if (!Files.isRegularFile(modelFile)) {
            throw new IllegalStateException(runDir + ": training ended without a model file in the run folder: the"
                    + " checkpoint resumed from predates recording the best epoch's weights, and no epoch of this run"
                    + " beat it; its model file is in the checkpoint's own run folder");
        }
        Activity.set("checking the model file " + modelFile);
        Safetensors.verify(modelFile);
        return modelFile;
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
        String holder = RunFolder.holder(dir);
        if (holder != null) {
            // Checked again, and for good, when training takes the folder's lock.
            throw new IllegalStateException("--out " + dir + ": the run folder is in use by " + holder
                    + "; give this run another folder, or wait until that one ends");
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

    private String modelName() {
        return modelOption != null ? modelOption : "seednet";
    }

    /** The architecture JSON of --model when it names a file, else null (a zoo model); checked before training. */
    private String architectureFile() {
        if (init != null) {
            return initial().architecture();
        }
        String name = modelName();
        if (Zoo.NAMES.contains(name.toLowerCase(Locale.ROOT))) {
            return null;
        }
        Path file = Path.of(name);
        if (!Files.isRegularFile(file)) {
            throw new UsageException("--model must be " + String.join(", ", Zoo.NAMES) + " or an architecture JSON file, "
                    + "got '" + name + "'" + (Files.exists(file) ? " (not a file)" : ""));
        }
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_ARCHITECTURE_BYTES) {
                throw new UsageException("--model " + file + " is larger than " + (MAX_ARCHITECTURE_BYTES >> 20)
                        + " MiB: not an architecture");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UsageException("--model " + file + ": " + e.getMessage(), e);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new UsageException("--model " + file + " is not UTF-8 text, so not an architecture JSON file"
                    + (looksLikeSafetensors(bytes) ? " (a model file or checkpoint? train goes on from a checkpoint"
                    + " with --resume)" : " (an image or other binary file?)"), e);
        }
    }

    /** Whether the bytes start as safetensors do: a little-endian header length, then '{'. */
    private static boolean looksLikeSafetensors(byte[] bytes) {
        return bytes.length > 9 && bytes[8] == '{' && bytes[7] == 0 && bytes[6] == 0;
    }

    private Model newModel(String architecture, Shape input, int classes, long runSeed, Backend b) {
        if (init != null) {
            return initial().place(b);
        }
        try {
            return architecture == null ? Zoo.build(modelName(), input, classes, b, runSeed)
                    : Model.fromArchitecture(architecture, b);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--model " + modelName() + ": " + e.getMessage(), e);
        }
    }

    /** The model file or ONNX file of --init, which replaces --model. */
    private ModelDescription initial() {
        if (initial == null) {
            if (modelOption != null) {
                throw new UsageException("--init " + init + " gives the architecture; leave out --model " + modelOption);
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
