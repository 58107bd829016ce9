package dev.receptive.train;

import dev.receptive.io.Safetensors;
import dev.receptive.io.TensorData;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.optim.OptimizerState;
import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a run needs to go on exactly where it stopped after {@code epoch} epochs: the
 * weights, the optimizer's state, the global step (dropout masks are keyed by it), the shuffle
 * seed (epoch orders are keyed by (seed, epoch)), and the metrics so far.
 *
 * <p>Stored as one safetensors file: tensors "model/NAME" (the state dict),
 * "optimizer/NAME/SLOT" (e.g. "optimizer/0.weight/m") and, when the best epoch is an earlier
 * one, "best/NAME" (its state dict), the rest as string metadata ("best_epoch" among it). It is
 * written atomically, so a crash leaves the previous checkpoint intact, and carries checksums
 * (see {@link Safetensors}).
 *
 * @param model the model's architecture, parameters and buffers (its info, normalization and class
 *     names, is not stored: the trainer sets it from the training set)
 * @param optimizer the optimizer's class name, e.g. "Adam"
 * @param epoch epochs completed
 * @param step training steps completed (the next step's dropout masks use this number)
 * @param seed the shuffle seed
 * @param optimizerState the optimizer's step count and state tensors
 * @param batchSize images per optimizer step
 * @param trainSize images in the training set, which fixes the epoch orders
 * @param history the metrics of every epoch done
 * @param steps the smoothed training loss of every window of steps done (empty in checkpoints
 *     written before it was recorded)
 * @param settings every training setting by name ("lr", "optimizer", "schedule", …; see
 *     {@link Trainer}); empty in checkpoints of format version 1, which did not record them
 * @param best the best epoch so far and its weights, which the run folder's model file holds, so
 *     that a resume (into any folder) can write that file again; null when unknown (a
 *     checkpoint written before it was recorded whose own epoch was not the best)
 */
public record Checkpoint(ModelDescription model, String optimizer,
        OptimizerState optimizerState, int epoch, int step, long seed, int batchSize, int trainSize,
        List<Metrics> history, List<StepMetrics> steps, Map<String, String> settings, Best best) {
    /**
     * The best epoch so far and its weights.
     *
     * @param epoch the epoch, from 1: the best by validation accuracy (the earliest of equals), or the
     *     last without validation (see {@link #bestEpoch})
     * @param model the weights after that epoch
     */
    public record Best(int epoch, ModelDescription model) {
        /**
         * Checks the values.
         *
         * @param epoch ≥ 1
         * @param model holding weights
         * @throws IllegalArgumentException when epoch is below 1 or model has no weights
         */
        public Best {
            if (epoch < 1 || model == null || !model.hasState()) {
                throw new IllegalArgumentException("Checkpoint.Best: needs an epoch >= 1 and weights, got epoch " + epoch);
            }
        }
    }

    static final String VERSION = "2";
    private static final String SETTING = "setting.";
    private static final String MODEL = "model/";
    private static final String OPTIMIZER = "optimizer/";
    private static final String BEST = "best/";
    private static final System.Logger LOG = System.getLogger(Checkpoint.class.getName());

    /**
     * Copies the maps and the lists into unmodifiable ones (the tensors themselves are not copied).
     *
     * @param model the model's architecture, parameters and buffers; it must hold weights
     * @param optimizer the optimizer's class name, e.g. "Adam"
     * @param optimizerState the optimizer's step count and state tensors
     * @param epoch epochs completed
     * @param step training steps completed
     * @param seed the shuffle seed
     * @param batchSize images per optimizer step
     * @param trainSize images in the training set
     * @param history the metrics of every epoch done
     * @param steps the smoothed training loss of every window of steps done
     * @param settings every training setting by name
     * @param best the best epoch so far and its weights, or null when unknown
     * @throws IllegalArgumentException when the model has no weights, or the best epoch is past this one or
     *     its weights are of another architecture
     */
    public Checkpoint {
        if (model == null || !model.hasState()) {
            throw new IllegalArgumentException("Checkpoint: the model must be given with its weights");
        }
        if (best != null && (best.epoch() > epoch || !best.model().architecture().equals(model.architecture()))) {
            throw new IllegalArgumentException("Checkpoint: the best epoch " + best.epoch() + " must be one of the "
                    + epoch + " done, with the model's architecture");
        }
        history = List.copyOf(history);
        steps = List.copyOf(steps);
        settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    }

    /**
     * As the canonical constructor, with the best epoch unknown.
     *
     * @param model the model's architecture, parameters and buffers; it must hold weights
     * @param optimizer the optimizer's class name, e.g. "Adam"
     * @param optimizerState the optimizer's step count and state tensors
     * @param epoch epochs completed
     * @param step training steps completed
     * @param seed the shuffle seed
     * @param batchSize images per optimizer step
     * @param trainSize images in the training set
     * @param history the metrics of every epoch done
     * @param steps the smoothed training loss of every window of steps done
     * @param settings every training setting by name
     */
    public Checkpoint(ModelDescription model, String optimizer, OptimizerState optimizerState, int epoch, int step,
            long seed, int batchSize, int trainSize, List<Metrics> history, List<StepMetrics> steps,
            Map<String, String> settings) {
        this(model, optimizer, optimizerState, epoch, step, seed, batchSize, trainSize, history, steps, settings, null);
    }

    /**
     * The best of the epochs so far: the first with the highest validation accuracy, or the last
     * when they were not validated.
     *
     * @param history the metrics of the epochs, in order
     * @return its epoch number, from 1; 0 for no epochs
     */
    public static int bestEpoch(List<Metrics> history) {
        int best = 0;
        double top = Double.NEGATIVE_INFINITY;
        for (Metrics m : history) {
            // Without validation the accuracy is NaN and every epoch beats the ones before it.
            if (!(m.valAccuracy() <= top)) {
                best = m.epoch();
                top = Double.isNaN(m.valAccuracy()) ? Double.NEGATIVE_INFINITY : m.valAccuracy();
            }
        }
        return best;
    }

    /**
     * Writes the checkpoint atomically to {@code file}: a crash leaves the previous file intact.
     *
     * @param file where to write, replacing a file that is there
     * @throws IOException when the file or its temporary sibling cannot be written
     */
    public void write(Path file) throws IOException {
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        model.state().forEach((name, t) -> tensors.put(MODEL + name, data(t)));
        optimizerState.slots().forEach((param, bySlot) ->
                bySlot.forEach((slot, t) -> tensors.put(OPTIMIZER + param + "/" + slot, data(t))));
        if (best != null && best.epoch() != epoch) {
            best.model().state().forEach((name, t) -> tensors.put(BEST + name, data(t)));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("receptive.checkpoint", VERSION);
        meta.put("architecture", model.architecture());
        meta.put("optimizer", optimizer);
        meta.put("optimizer_step", Integer.toString(optimizerState.step()));
        meta.put("epoch", Integer.toString(epoch));
        meta.put("step", Integer.toString(step));
        meta.put("seed", Long.toString(seed));
        meta.put("batch_size", Integer.toString(batchSize));
        meta.put("train_size", Integer.toString(trainSize));
        meta.put("metrics", Metrics.toCsv(history));
        meta.put("step_metrics", StepMetrics.toCsv(steps));
        settings.forEach((k, v) -> meta.put(SETTING + k, v));
        if (best != null) {
            meta.put("best_epoch", Integer.toString(best.epoch()));
        }
        Safetensors.write(file, tensors, meta);
    }

    /**
     * Reads a checkpoint; nothing else is touched, so a bad file changes nothing.
     *
     * @param file a file {@link #write} made
     * @return the checkpoint, every entry checked
     * @throws IOException naming the file and what is wrong: damaged or truncated safetensors,
     *     not a checkpoint, a missing or malformed entry
     */
    public static Checkpoint read(Path file) throws IOException {
        Safetensors.Loaded loaded = Safetensors.read(file);
        Map<String, String> meta = loaded.metadata();
        String version = meta.get("receptive.checkpoint");
        if (!"1".equals(version) && !VERSION.equals(version)) {
            throw new IOException(file + ": not a Receptive checkpoint of version 1 or " + VERSION
                    + " (metadata 'receptive.checkpoint' is " + version + ")"
                    + (meta.containsKey("receptive.architecture") ? "; it is a model file, not a checkpoint" : ""));
        }
        if (!loaded.checksummed()) {
            LOG.log(System.Logger.Level.WARNING, "{0}: the checkpoint has no checksums (written by an older"
                    + " Receptive), so damage to it cannot be detected; the next checkpoint will have them", file);
        }
        Map<String, String> settings = new LinkedHashMap<>();
        meta.forEach((k, v) -> {
            if (k.startsWith(SETTING)) {
                settings.put(k.substring(SETTING.length()), v);
            }
        });
        Map<String, HostTensor> weights = new LinkedHashMap<>();
        Map<String, HostTensor> bestWeights = new LinkedHashMap<>();
        Map<String, Map<String, HostTensor>> slots = new LinkedHashMap<>();
        for (Map.Entry<String, TensorData> e : loaded.tensors().entrySet()) {
            String name = e.getKey();
            HostTensor t = host(file, name, e.getValue());
            if (name.startsWith(MODEL)) {
                weights.put(name.substring(MODEL.length()), t);
            } else if (name.startsWith(BEST)) {
                bestWeights.put(name.substring(BEST.length()), t);
            } else if (name.startsWith(OPTIMIZER) && name.lastIndexOf('/') > OPTIMIZER.length()) {
                int cut = name.lastIndexOf('/');
                slots.computeIfAbsent(name.substring(OPTIMIZER.length(), cut), k -> new LinkedHashMap<>())
                        .put(name.substring(cut + 1), t);
            } else {
                throw new IOException(file + ": unexpected tensor '" + name + "' (expected model/... or optimizer/.../...)");
            }
        }
        try {
            String architecture = text(file, meta, "architecture");
            ModelDescription model = ModelDescription.of(architecture, weights, ModelInfo.NONE);
            int epoch = whole(file, meta, "epoch");
            List<Metrics> history = Metrics.fromCsv(text(file, meta, "metrics"));
            // Before best_epoch was recorded, the best is known when it was the checkpoint's own epoch.
            boolean recorded = meta.containsKey("best_epoch");
            int bestEpoch = recorded ? whole(file, meta, "best_epoch") : bestEpoch(history);
            if (recorded && (bestEpoch < 1 || bestEpoch > epoch)) {
                throw new IOException(file + ": checkpoint metadata 'best_epoch' is " + bestEpoch + ", not one of the "
                        + epoch + " epochs done");
            }
            boolean own = bestEpoch == epoch;
            if (!bestWeights.isEmpty() && (!recorded || own)) {
                throw new IOException(file + ": the checkpoint holds best/... tensors but " + (recorded
                        ? "its best epoch is its own" : "no 'best_epoch'"));
            }
            if (recorded && !own && bestWeights.isEmpty()) {
                throw new IOException(file + ": the checkpoint's best epoch " + bestEpoch + " has no best/... tensors");
            }
            Best best = own && epoch > 0 ? new Best(epoch, model)
                    : !bestWeights.isEmpty() ? new Best(bestEpoch, ModelDescription.of(architecture, bestWeights,
                            ModelInfo.NONE))
                    : null;
            return new Checkpoint(model, text(file, meta, "optimizer"),
                    new OptimizerState(whole(file, meta, "optimizer_step"), slots), epoch,
                    whole(file, meta, "step"), seed(file, meta), whole(file, meta, "batch_size"),
                    whole(file, meta, "train_size"), history,
                    meta.containsKey("step_metrics") ? StepMetrics.fromCsv(meta.get("step_metrics")) : List.of(),
                    settings, best);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    private static TensorData data(HostTensor t) {
        return new TensorData(t.shape().dims(), t.data());
    }

    private static HostTensor host(Path file, String name, TensorData t) throws IOException {
        try {
            return new HostTensor(Shape.of(t.shape()), t.data());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": tensor '" + name + "': " + e.getMessage(), e);
        }
    }

    private static String text(Path file, Map<String, String> meta, String key) throws IOException {
        String value = meta.get(key);
        if (value == null) {
            throw new IOException(file + ": checkpoint metadata lacks '" + key + "'");
        }
        return value;
    }

    private static long seed(Path file, Map<String, String> meta) throws IOException {
        String value = text(file, meta, "seed");
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IOException(file + ": checkpoint metadata 'seed' is '" + value + "', not a 64-bit integer", e);
        }
    }

    /** A metadata entry holding an int ≥ 0. */
    private static int whole(Path file, Map<String, String> meta, String key) throws IOException {
        String value = text(file, meta, key);
        try {
            int n = Integer.parseInt(value);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IOException(file + ": checkpoint metadata '" + key + "' is '" + value + "', not a whole number >= 0");
    }
}
