package dev.receptive.cli;

import dev.receptive.data.Augmentation;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.nn.optim.Optimizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** How train optimizes: optimizer, schedule, loss, augmentation, accumulation and early stopping. */
final class TrainingOptions {
    @Option(names = "--optimizer", description = "adam, adamw or sgd (default: ${DEFAULT-VALUE})")
    String optimizer = "adam";

    @Option(names = "--weight-decay", description = "Weight decay: L2 for adam and sgd, decoupled for adamw "
            + "(default: 0, or 0.01 with adamw)")
    Double weightDecay;

    @Option(names = "--momentum", description = "SGD momentum (default: ${DEFAULT-VALUE})")
    double momentum = 0.9;

    @Option(names = "--schedule", description = "constant, cosine (per epoch) or warmup-cosine (linear warm-up, then "
            + "cosine decay, per step) (default: ${DEFAULT-VALUE})")
    String schedule = "constant";

    @Option(names = "--warmup", paramLabel = "EPOCHS", description = "Warm-up epochs of warmup-cosine (default: "
            + "${DEFAULT-VALUE})")
    double warmup = 1;

    @Option(names = "--label-smoothing", description = "Label smoothing of the cross-entropy, in [0, 1) "
            + "(default: ${DEFAULT-VALUE})")
    double labelSmoothing = 0;

    @Option(names = "--augment", description = "none, or crop, flip or crop+flip: random crops (shifts of up to "
            + "--crop-padding pixels) and horizontal flips (default: ${DEFAULT-VALUE})")
    String augment = "none";

    @Option(names = "--crop-padding", description = "Pixels a random crop may shift (default: ${DEFAULT-VALUE})")
    int cropPadding = 2;

    @Option(names = "--accumulate", paramLabel = "K", description = "Split each batch into K micro-batches whose "
            + "gradients add up (less memory, same result) (default: ${DEFAULT-VALUE})")
    int accumulate = 1;

    @Option(names = "--early-stopping", paramLabel = "PATIENCE", description = "Stop when PATIENCE epochs in a row do "
            + "not beat the best test accuracy (default: off)")
    Integer patience;

    /** The optimizer these options describe, at learning rate {@code lr}. */
    Optimizer optimizer(double lr) {
        switch (optimizer.toLowerCase(Locale.ROOT)) {
            case "adam":
                return Optimizer.adam(lr).weightDecay(decay(0)).build();
            case "adamw":
                return Optimizer.adamW(lr, decay(0.01)).build();
            case "sgd":
                return Optimizer.sgd(lr).momentum(momentum).weightDecay(decay(0)).build();
            default:
                throw new UsageException("--optimizer must be adam, adamw or sgd, got '" + optimizer + "'");
        }
    }

    private double decay(double otherwise) {
        double d = weightDecay != null ? weightDecay : otherwise;
        if (!(d >= 0) || Double.isInfinite(d)) {
            throw new UsageException("--weight-decay must be a number >= 0, got " + d);
        }
        return d;
    }

    LrSchedule schedule(int epochs) {
        switch (schedule.toLowerCase(Locale.ROOT)) {
            case "constant":
                return LrSchedule.constant();
            case "cosine":
                return LrSchedule.cosine(epochs, 0);
            case "warmup-cosine":
                if (!(warmup >= 0 && warmup < epochs)) {
                    throw new UsageException("--warmup must be in [0, --epochs), got " + warmup);
                }
                return LrSchedule.warmupCosine(warmup, epochs, 0);
            default:
                throw new UsageException("--schedule must be constant, cosine or warmup-cosine, got '" + schedule + "'");
        }
    }

    Loss loss() {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new UsageException("--label-smoothing must be in [0, 1), got " + labelSmoothing);
        }
        return Loss.softmaxCrossEntropy(labelSmoothing);
    }

    /** The augmentation, or null for none. */
    Augmentation augmentation() {
        String a = augment.toLowerCase(Locale.ROOT);
        if (a.equals("none")) {
            return null;
        }
        List<Augmentation> steps = new ArrayList<>();
        for (String part : a.split("\\+")) {
            switch (part) {
                case "crop" -> {
                    if (cropPadding < 1) {
                        throw new UsageException("--crop-padding must be >= 1, got " + cropPadding);
                    }
                    steps.add(Augmentation.randomCrop(cropPadding));
                }
                case "flip" -> steps.add(Augmentation.horizontalFlip());
                default -> throw new UsageException("--augment must be none, crop, flip or crop+flip, got '" + augment
                        + "'");
            }
        }
        return Augmentation.compose(steps.toArray(new Augmentation[0]));
    }

    /** Checks every option (bad usage naming the option), before any data is read or backend chosen. */
    void check(int batch, int epochs) {
        try (Optimizer o = optimizer(1e-3)) {
            o.learningRate(); // built to check the optimizer's name and settings
        }
        schedule(epochs);
        loss().close();
        augmentation();
        if (accumulate < 1 || batch % accumulate != 0) {
            throw new UsageException("--accumulate must be >= 1 and divide the batch size " + batch + ", got "
                    + accumulate);
        }
        if (patience != null && patience < 1) {
            throw new UsageException("--early-stopping must be >= 1, got " + patience);
        }
    }
}
