package dev.receptive.cli;

import dev.receptive.backend.Backend;
import dev.receptive.data.DataFolder;
import dev.receptive.data.Dataset;
import dev.receptive.data.Split;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.train.Checkpoint;
import dev.receptive.train.Evaluation;
import dev.receptive.train.Metrics;
import dev.receptive.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train the seed network (conv5x5x32, pool, conv5x5x64, pool, dense 1024, dropout 0.5, dense 10) "
            + "with Adam, validating on the test set after each epoch.",
            "The last line printed is: test_accuracy=<fraction> epoch_seconds=<mean training seconds per epoch>"})
final class TrainCommand implements Callable<Integer> {
    static final String MODEL_FILE = "model.safetensors";

    @Option(names = "--dataset", description = "mnist or fashion-mnist (default: ${DEFAULT-VALUE})")
    String dataset = "mnist";

    @Option(names = "--epochs", description = "Epochs in all, counting those of --resume (default: ${DEFAULT-VALUE})")
    int epochs = 3;

    @Option(names = "--batch", description = "Batch size (default: 64, or the checkpoint's with --resume)")
    Integer batch;

    @Option(names = "--lr", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
    double lr = 1e-3;

    @Option(names = "--seed", description = "Seeds the weights, dropout and shuffling (default: 1, or the checkpoint's)")
    Long seed;

    @Option(names = "--backend", description = "auto, cpu or cuda (default: RECEPTIVE_BACKEND, else auto)")
    String backend;

    @Option(names = "--data", description = "Data folder holding mnist/ and fashion-mnist/ (default: RECEPTIVE_DATA, "
            + "else ~/.cache/receptive/datasets)")
    Path data;

    @Option(names = "--out", description = "Run folder for checkpoint, metrics, curves and model "
            + "(default: runs/<timestamp>, or the checkpoint's folder with --resume)")
    Path out;

    @Option(names = "--resume", paramLabel = "CHECKPOINT", description = "Go on from a checkpoint.safetensors")
    Path resume;

    @Option(names = "--limit", paramLabel = "N", description = "Train on the first N training images only")
    Integer limit;

    @Override
    public Integer call() throws IOException {
        DatasetChoice choice = DatasetChoice.of(dataset);
        if (epochs < 1) {
            throw new UsageException("--epochs must be >= 1, got " + epochs);
        }
        Inputs.positive("--lr", lr);
        if (limit != null && limit < 1) {
            throw new UsageException("--limit must be >= 1, got " + limit);
        }
        Checkpoint checkpoint = resume == null ? null : readCheckpoint();
        long runSeed = seed != null ? seed : checkpoint != null ? checkpoint.seed() : 1;
        int batchSize = batch != null ? batch : checkpoint != null ? checkpoint.batchSize() : 64;
        if (batchSize < 1) {
            throw new UsageException("--batch must be >= 1, got " + batchSize);
        }
        Path root = data != null ? data : DataFolder.root();
        DataFetch.ensure(choice, root, System.err);
        Activity.set("loading " + choice.id() + " from " + choice.folder(root));
        Dataset train = choice.load(root, Split.TRAIN);
        if (limit != null && limit < train.size()) {
            train = Subsets.first(train, limit);
        }
        Dataset test = choice.load(root, Split.TEST);
        if (train.size() < batchSize) {
            throw new UsageException("the training set has " + train.size() + " images, fewer than one batch of "
                    + batchSize);
        }
        if (checkpoint != null) {
            checkResume(checkpoint, runSeed, batchSize, train.size());
        }
        Path runDir = out != null ? out : resume != null ? resume.toAbsolutePath().getParent()
                : Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm-ss")));

        try (Backend b = Inputs.backend(backend)) {
            System.err.println("receptive train: " + choice.id() + " (" + train.size() + " training, " + test.size()
                    + " test images) on " + b.description() + "; run folder " + runDir);
            Activity.set("building the model on " + b.name());
            try (Sequential model = checkpoint == null ? Models.seedNet(runSeed).build(b)
                    : fromCheckpoint(checkpoint, b);
                    Loss loss = Loss.softmaxCrossEntropy();
                    Optimizer adam = Optimizer.adam(lr).build()) {
                if (!model.inputShape().equals(train.itemShape()) || !model.outputShape().equals(Shape.of(train.classCount()))) {
                    throw new UsageException("the checkpoint's model takes " + model.inputShape() + " and gives "
                            + model.outputShape() + ", but " + choice.id() + " has " + train.itemShape()
                            + " images in " + train.classCount() + " classes");
                }
                Trainer trainer = Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(epochs)
                        .batchSize(batchSize).seed(runSeed).validation(test).outputDir(runDir)
                        .resume(checkpoint).listener(new TrainingDisplay(System.err, System.out)).build();
                Activity.set("training on " + train.size() + " images in batches of " + batchSize);
                List<Metrics> history = trainer.fit(train);
                Path modelFile = runDir.resolve(MODEL_FILE);
                ModelFile.save(modelFile, model, ModelMetadata.of(choice));
                Evaluation last = trainer.lastValidation();
                if (last != null) {
                    System.out.print(last.confusionTable(choice.classNames()));
                }
                System.out.println("model saved to " + modelFile);
                Metrics m = history.get(history.size() - 1);
                double epochSeconds = history.stream().mapToDouble(Metrics::seconds).average().orElse(Double.NaN);
                System.out.printf(Locale.ROOT, "test_accuracy=%.4f epoch_seconds=%.2f%n", m.valAccuracy(), epochSeconds);
            }
        }
        return Main.OK;
    }

    private Checkpoint readCheckpoint() {
        Inputs.existingFile(resume, "checkpoint");
        Activity.set("reading the checkpoint " + resume);
        try {
            return Checkpoint.read(resume);
        } catch (IOException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /** The checkpoint's network, with fresh weights: the trainer loads the checkpoint's. */
    private Sequential fromCheckpoint(Checkpoint c, Backend b) {
        try {
            return Sequential.fromArchitecture(c.architecture(), b);
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
                    + trainSize + " (use the same --dataset and --limit)");
        }
    }
}
