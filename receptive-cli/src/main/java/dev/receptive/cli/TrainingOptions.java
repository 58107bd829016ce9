package dev.receptive.cli;

import dev.receptive.data.Augmentation;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** How train optimizes: optimizer, schedule, loss, augmentation, accumulation and early stopping. */
final class TrainingOptions {
    @Option(names = "--optimizer", description = "adam, adamw or sgd (default: ${DEFAULT-VALUE})")
    String optimizer = "adam";

    @Option(names = "--weight-decay", description = "Weight decay: L2 for adam and sgd, decoupled for adamw; 0, or "
            + "from 1e-10 to 10 (default: 0, or 0.01 with adamw)")
    Double weightDecay;

    @Option(names = "--momentum", description = "SGD momentum, in [0, 1); sgd only (default: 0.9)")
    Double momentum;

    @Option(names = "--schedule", description = "constant, cosine (per epoch) or warmup-cosine (linear warm-up, then "
            + "cosine decay, per step) (default: ${DEFAULT-VALUE})")
    String schedule = "constant";

    @Option(names = "--warmup", paramLabel = "EPOCHS", description = "Warm-up epochs of warmup-cosine, in [0, "
            + "--epochs) (default: 1)")
    Double warmup;

    @Option(names = "--label-smoothing", description = "Label smoothing of the cross-entropy, in [0, 1) "
            + "(default: ${DEFAULT-VALUE})")
    double labelSmoothing = 0;

    @Option(names = "--augment", description = "none, or crop, flip or crop+flip: random crops (shifts of up to "
            + "--crop-padding pixels) and horizontal flips (default: ${DEFAULT-VALUE})")
    String augment = "none";

    @Option(names = "--crop-padding", description = "Pixels a random crop may shift, from 1 to half the image's "
            + "shorter side; with crop only (default: 2)")
    Integer cropPadding;

    @Option(names = "--accumulate", paramLabel = "K", description = "Split each batch into K micro-batches whose "
            + "gradients add up (less memory, same result); K divides --batch (default: ${DEFAULT-VALUE})")
    int accumulate = 1;

    @Option(names = "--early-stopping", paramLabel = "PATIENCE", description = "Stop when PATIENCE (>= 1) epochs in a "
            + "row do not beat the best test accuracy (default: off)")
    Integer patience;

    /** The least learning rate and nonzero weight decay taken: smaller ones are typos (1e-50 is 0 as a float). */
    static final double MIN_RATE = 1e-10;
    /** The largest learning rate taken. */
    static final double MAX_LR = 100;
    /** The largest weight decay taken. */
    static final double MAX_WEIGHT_DECAY = 10;

    /** Checks --lr (or the checkpoint's rate) against its range. */
    static void checkLearningRate(double lr) {
        if (!(lr >= MIN_RATE && lr <= MAX_LR)) {
            throw new UsageException("--lr must be a number from " + MIN_RATE + " to " + MAX_LR + ", got " + lr);
        }
    }

    /** The optimizer these options describe, at learning rate {@code lr}. */
    Optimizer optimizer(double lr) {
        switch (optimizer.toLowerCase(Locale.ROOT)) {
            case "adam":
                return Optimizer.adam(lr).weightDecay(decay(0)).build();
            case "adamw":
                return Optimizer.adamW(lr, decay(0.01)).build();
            case "sgd":
                double m = momentum != null ? momentum : 0.9;
                if (!(m >= 0 && m < 1)) {
                    throw new UsageException("--momentum must be in [0, 1), got " + momentum);
                }
                return Optimizer.sgd(lr).momentum(m).weightDecay(decay(0)).build();
            default:
                throw new UsageException("--optimizer must be adam, adamw or sgd, got '" + optimizer + "'");
        }
    }

    private double decay(double otherwise) {
        double d = weightDecay != null ? weightDecay : otherwise;
        if (!(d == 0 || (d >= MIN_RATE && d <= MAX_WEIGHT_DECAY))) {
            throw new UsageException("--weight-decay must be 0 or a number from " + MIN_RATE + " to " + MAX_WEIGHT_DECAY
                    + ", got " + d);
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
                double w = warmup != null ? warmup : 1;
                if (!(w >= 0 && w < epochs)) {
                    throw new UsageException("--warmup must be in [0, --epochs), got " + w);
                }
                return LrSchedule.warmupCosine(w, epochs, 0);
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
                case "crop" -> steps.add(Augmentation.randomCrop(cropPadding()));
                case "flip" -> steps.add(Augmentation.horizontalFlip());
                default -> throw new UsageException("--augment must be none, crop, flip or crop+flip, got '" + augment
                        + "'");
            }
        }
        return Augmentation.compose(steps.toArray(new Augmentation[0]));
    }

    private int cropPadding() {
        int p = cropPadding != null ? cropPadding : 2;
        if (p < 1) {
            throw new UsageException("--crop-padding must be >= 1, got " + p);
        }
        return p;
    }

    /**
     * Checks --crop-padding against the images, once their shape is known: a crop may shift an
     * image by at most half its shorter side (more leaves mostly padding).
     *
     * @param item the (C, H, W) of one image
     */
    void checkCropPadding(Shape item) {
        if (augment.toLowerCase(Locale.ROOT).contains("crop")) {
            int most = Math.min(item.dim(1), item.dim(2)) / 2;
            if (cropPadding() > most) {
                throw new UsageException("--crop-padding must be from 1 to " + most + " (half the shorter side) for "
                        + item + " images, got " + cropPadding());
            }
        }
    }

    /** Checks every option (bad usage naming the option), before any data is read or backend chosen. */
    void check(int batch, int epochs) {
        if (momentum != null && !optimizer.equalsIgnoreCase("sgd")) {
            throw new UsageException("--momentum applies to --optimizer sgd only, not " + optimizer);
        }
        if (warmup != null && !schedule.equalsIgnoreCase("warmup-cosine")) {
            throw new UsageException("--warmup applies to --schedule warmup-cosine only, not " + schedule);
        }
        if (cropPadding != null && !augment.toLowerCase(Locale.ROOT).contains("crop")) {
            throw new UsageException("--crop-padding applies to --augment crop or crop+flip only, not " + augment);
        }
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
