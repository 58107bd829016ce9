package dev.receptive.spark;

import dev.receptive.backend.Backends;
import dev.receptive.data.Batches;
import dev.receptive.data.Dataset;
import dev.receptive.data.Normalization;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.Parameter;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.nn.optim.OptimizerState;
import dev.receptive.train.TrainingDivergedException;
import dev.receptive.train.TrainingStep;
import dev.receptive.tensor.Shape;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/**
 * Synchronous data-parallel training of a classifier (softmax cross-entropy on class labels) on
 * Spark. Each step the driver broadcasts the weights, splits the global batch into one shard per
 * partition, and each partition's task computes its shard's share of the batch gradient on its
 * executor's backend (made once per executor JVM and reused) from data the executor reads itself.
 * The driver adds the shares <em>in partition-index order</em> and applies its optimizer to the
 * model it holds, so:
 *
 * <ul>
 *   <li>a run is deterministic: the same partitioning gives bit-identical weights (on backends
 *       whose ops are deterministic, as the CPU's are);
 *   <li>it equals single-process training on the same global batch within fp32 rounding: the
 *       batches are those of {@code Trainer} with the same seed (shuffled epochs, last partial
 *       batch dropped), dropout draws the global batch's masks through each shard's sample offset,
 *       and only the order in which the per-sample gradients are added differs.
 * </ul>
 *
 * <pre>
 * try (SparkTrainer trainer = SparkTrainer.builder().spark(spark).model(model)
 *         .optimizer(Optimizer.adam(1e-3).build()).data(TrainingData.mnist(dir, Split.TRAIN))
 *         .batchSize(64).partitions(4).seed(1).build()) {
 *     trainer.fit(1);
 * }
 * </pre>
 *
 * <p>The model (on the driver's backend) and the optimizer belong to the caller. Each step the
 * driver sends the weights once per executor (a broadcast) and receives one gradient per
 * partition: both the model's parameter bytes.
 *
 * <p>With {@link Builder#allReduce(int)} the driver leaves the data path: a barrier stage runs
 * several steps, and its tasks reduce-scatter the gradients among themselves (each adding its
 * chunk of the P shards' gradients in partition order, the driver's additions), update their
 * chunk with their slice of the optimizer state, and all-gather the weights, with the same bits
 * as above. A stage that fails is run again from its start. Batch norms there normalize with the
 * global batch's statistics (summed over the tasks), so models with batch norm train too; the
 * driver's sum refuses them (their running statistics would be updated per shard and lost). Not
 * thread-safe: one thread trains.
 */
public final class SparkTrainer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SparkTrainer.class.getName());

    /** The Spark setting that fixes the port of the all-reduce stages' {@link Rendezvous} on the driver (default any). */
    public static final String RENDEZVOUS_PORT = "spark.receptive.rendezvous.port";

    private static final java.security.SecureRandom VERSIONS = new java.security.SecureRandom();

    private final JavaSparkContext jsc;
    private final Model model;
    private final Optimizer optimizer;
    private final TrainingData data;
    private final int batchSize;
    private final int partitions;
    private final long seed;
    private final String backend;
    private final boolean gang;
    private final int stepsPerStage;
    private final int stageAttempts;
    private final long exchangeTimeoutMs;
    private final SliceOptimizer.Spec optimizerSpec;
    private final java.nio.file.Path checkpointDir;
    private final int checkpointEvery;
    private final boolean resume;
    private final LrSchedule schedule;
    private final float baseLr;
    private static final String CHECKPOINT = "checkpoint.safetensors";
    private final Loss loss = Loss.softmaxCrossEntropy();
    private final TrainingStep trainingStep;
    private final String run = UUID.randomUUID().toString();
    private int dataSize = -1;
    private long fingerprint;
    private int epoch;
    private int batchInEpoch;
    private int step;
    private int[] order;
    private StageStats lastStage;
    /** The version the tasks of the last all-reduce stage gave their end state (0: none), and its fingerprint. */
    private long keptVersion;
    private long keptFingerprint;
    private String kernels;
    private volatile int failedStages;

    private SparkTrainer(Builder b) {
        this.jsc = JavaSparkContext.fromSparkContext(b.spark.sparkContext());
        this.model = b.model;
        this.optimizer = b.optimizer;
        this.data = b.data;
        this.batchSize = b.batchSize;
        this.partitions = b.partitions;
        this.seed = b.seed;
        this.backend = b.backend;
        this.gang = b.gang;
        this.stepsPerStage = b.stepsPerStage;
        this.stageAttempts = b.stageAttempts;
        this.exchangeTimeoutMs = b.exchangeTimeoutMs;
        this.optimizerSpec = b.stepsPerStage > 0 ? SliceOptimizer.Spec.of(b.optimizer) : null;
        this.checkpointDir = b.checkpointDir;
        this.checkpointEvery = b.checkpointEvery;
        this.resume = b.resume;
        this.schedule = b.schedule;
        this.baseLr = b.optimizer.learningRate();
        // The driver's half of the shared step: the schedule, the update and the divergence check.
        this.trainingStep = new TrainingStep(model, loss, optimizer, b.schedule, 1);
    }

    /** {@return a new builder; spark, model, optimizer and data are required} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The loss, accuracy and duration of one synchronous step.
     *
     * @param step the step's number, from 0 over the whole run
     * @param epoch the epoch it belongs to, from 0
     * @param loss the mean loss over the global batch, before the update
     * @param accuracy the fraction of the global batch classified right, before the update
     * @param seconds the step's wall time on the driver, broadcast and update included
     */
    public record StepResult(int step, int epoch, double loss, double accuracy, double seconds) {
    }

    /**
     * {@return the steps taken so far (the dropout step of the next one)} With {@link Builder#resume}
     * the first call reads the data and loads the checkpoint, so it counts the checkpoint's steps.
     */
    public int stepCount() {
        if (resume) {
            prepare();
        }
        return step;
    }

    /**
     * {@return the steps per epoch: the training data's size over the batch size, the last partial batch dropped}
     * The first call has the executors read the data and checks it against the model.
     *
     * @throws IllegalArgumentException when the data does not fit the model or holds less than one batch
     * @throws IllegalStateException when executors read different data, or gang scheduling cannot run
     */
    public int stepsPerEpoch() {
        prepare();
        return dataSize / batchSize;
    }

    /**
     * Trains {@code epochs} more epochs' worth of steps and returns every step's result.
     *
     * @param epochs ≥ 0
     * @return one result per step, in order
     * @throws IllegalArgumentException when epochs &lt; 0, or as {@link #step()}
     * @throws IllegalStateException as {@link #step()}
     */
    public List<StepResult> fit(int epochs) {
        if (epochs < 0) {
            throw new IllegalArgumentException("SparkTrainer: epochs must be >= 0, got " + epochs);
        }
        return train(epochs * stepsPerEpoch());
    }

    /**
     * Runs {@code steps} more synchronous steps, continuing the epoch where the last call stopped.
     *
     * @param steps the number of steps; none for 0 or less
     * @return one result per step, in order
     * @throws IllegalArgumentException as {@link #step()}
     * @throws IllegalStateException as {@link #step()}
     */
    public List<StepResult> train(int steps) {
        List<StepResult> results = new ArrayList<>();
        if (stepsPerStage > 0) {
            while (results.size() < steps) {
                results.addAll(stage(Math.min(stepsPerStage, steps - results.size())));
            }
            return results;
        }
        for (int i = 0; i < steps; i++) {
            results.add(step());
        }
        return results;
    }

    /**
     * One synchronous step over the next global batch: the weights are broadcast, each partition computes its
     * shard's gradient, and the driver adds them in partition order and updates the model.
     *
     * @return the step's loss, accuracy and time
     * @throws IllegalArgumentException on the first step, when the data does not fit the model
     * @throws IllegalStateException when executors read different data
     * @throws TrainingDivergedException when the loss is NaN or infinite (the weights are left as they were)
     */
    public StepResult step() {
        if (stepsPerStage > 0) {
            return stage(1).get(0);
        }
        prepare();
        long start = System.nanoTime();
        if (order == null || batchInEpoch == dataSize / batchSize) {
            if (order != null) {
                epoch++;
            }
            order = Batches.shuffledOrder(dataSize, seed, epoch);
            batchInEpoch = 0;
        }
        int perEpoch = dataSize / batchSize;
        trainingStep.start(epoch, epoch + (double) batchInEpoch / perEpoch);
        int[] batch = Arrays.copyOfRange(order, batchInEpoch * batchSize, (batchInEpoch + 1) * batchSize);
        Shard[] shards = Shard.split(step, batch, partitions);
        Broadcast<ModelDescription> weights = jsc.broadcast(model.describe());
        List<ShardResult> results;
        try {
            JavaRDD<Shard> rdd = jsc.parallelize(Arrays.asList(shards), partitions);
            ComputeShard compute = new ComputeShard(run, backend, data, weights);
            results = gang
                    ? rdd.rdd().barrier().mapPartitions(new InBarrier(compute), false,
                            scala.reflect.ClassTag$.MODULE$.<ShardResult>apply(ShardResult.class)).toJavaRDD().collect()
                    : rdd.map(compute).collect();
        } finally {
            weights.destroy();
        }
        double lossSum = 0;
        int correct = 0;
        List<Parameter> params = model.parameters();
        float[][] sum = new float[params.size()][];
        for (int p = 0; p < partitions; p++) {
            ShardResult r = results.get(p);
            if (r.partition() != p || r.samples() != shards[p].indices().length) {
                throw new IllegalStateException("receptive-spark: result " + p + " came from partition " + r.partition()
                        + " with " + r.samples() + " samples; expected partition " + p + " with "
                        + shards[p].indices().length);
            }
            if (r.dataFingerprint() != fingerprint) {
                throw new IllegalStateException("receptive-spark: the executor that ran partition " + p + " read other"
                        + " training data than the first (" + data + " differs between hosts); every executor must"
                        + " see the same files");
            }
            for (int k = 0; k < sum.length; k++) {
                float[] g = r.gradients()[k];
                if (p == 0) {
                    sum[k] = g;
                } else {
                    float[] s = sum[k];
                    for (int i = 0; i < s.length; i++) {
                        s[i] += g[i];
                    }
                }
            }
            lossSum += r.lossSum();
            correct += r.correct();
        }
        double meanLoss = lossSum / batchSize;
        trainingStep.checkLoss(meanLoss, step);
        for (int k = 0; k < sum.length; k++) {
            model.backend().upload(params.get(k).grad(), sum[k]);
        }
        trainingStep.update();
        StepResult result = new StepResult(step, epoch, meanLoss, (double) correct / batchSize,
                (System.nanoTime() - start) / 1e9);
        step++;
        batchInEpoch++;
        maybeCheckpoint();
        return result;
    }

    /**
     * All-reduce mode: one barrier stage of up to {@code steps} steps, ending early at the end of
     * the epoch. The driver plans the steps (batches, shards, learning rates), broadcasts the
     * weights and optimizer state once, and at the end takes the weights and optimizer state back
     * from the tasks' chunks. A failed stage (a task or executor lost) is run again from the same
     * start, up to the attempts set; the epoch position and step count move on only after success.
     */
    private List<StepResult> stage(int steps) {
        prepare();
        long start = System.nanoTime();
        int perEpoch = dataSize / batchSize;
        int e = epoch;
        int inEpoch = batchInEpoch;
        int[] ord = order;
        List<Shard[]> shardsPerStep = new ArrayList<>();
        float[] lrs = new float[steps];
        int[] epochs = new int[steps];
        int planned = 0;
        while (planned < steps) {
            if (planned > 0 && checkpointDir != null && checkpointEvery > 0 && (step + planned) % checkpointEvery == 0) {
                break; // a stage ends where a checkpoint is due
            }
            if (ord == null || inEpoch == perEpoch) {
                if (planned > 0) {
                    break; // a stage ends with its epoch: checkpoints fall on epoch boundaries
                }
                if (ord != null) {
                    e++;
                }
                ord = Batches.shuffledOrder(dataSize, seed, e);
                inEpoch = 0;
            }
            lrs[planned] = trainingStep.start(e, e + (double) inEpoch / perEpoch);
            epochs[planned] = e;
            int[] batch = Arrays.copyOfRange(ord, inEpoch * batchSize, (inEpoch + 1) * batchSize);
            shardsPerStep.add(Shard.split(step + planned, batch, partitions));
            inEpoch++;
            planned++;
        }
        List<AllReduceStage.Plan> plans = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            Shard[] mine = new Shard[planned];
            for (int i = 0; i < planned; i++) {
                mine[i] = shardsPerStep.get(i)[p];
            }
            plans.add(new AllReduceStage.Plan(p, mine, Arrays.copyOf(lrs, planned)));
        }
        List<Parameter> params = model.parameters();
        List<String> slotNames = optimizerSpec.slotNames();
        float[][] state = exportedState(params, slotNames);
        // The replicas kept the last stage's end state: when the model and optimizer here are still
        // exactly that state, the tasks start from it and leave the broadcast unread.
        long held = stateFingerprint(flatValues(params), state, bufferValues(), optimizer.stepCount());
        AllReduceStage.Versions versions = new AllReduceStage.Versions(
                keptVersion != 0 && held == keptFingerprint ? keptVersion : newVersion(), newVersion(),
                optimizerSpec);
        Broadcast<AllReduceStage.Start> begin = jsc.broadcast(new AllReduceStage.Start(model.describe(), state,
                optimizer.stepCount()));
        List<AllReduceStage.Result> results;
        try {
            results = runStage(plans, begin, versions);
        } finally {
            begin.destroy();
        }
        int m = totalWeights(params);
        float[] weights = new float[m];
        float[][] newState = new float[slotNames.size()][m];
        AllReduceStage.Result first = results.get(0);
        for (int p = 0; p < partitions; p++) {
            AllReduceStage.Result r = results.get(p);
            if (r.partition() != p || r.steps() != first.steps() || r.optimizerStep() != first.optimizerStep()) {
                throw new IllegalStateException("receptive-spark: result " + p + " came from partition " + r.partition()
                        + " after " + r.steps() + " steps; expected partition " + p + " after " + first.steps());
            }
            if (r.dataFingerprint() != fingerprint) {
                throw new IllegalStateException("receptive-spark: the executor that ran partition " + p + " read other"
                        + " training data than the first (" + data + " differs between hosts); every executor must"
                        + " see the same files");
            }
            int from = PeerGroup.chunkStart(m, partitions, p);
            System.arraycopy(r.weights(), 0, weights, from, r.weights().length);
            for (int k = 0; k < newState.length; k++) {
                System.arraycopy(r.state()[k], 0, newState[k], from, r.state()[k].length);
            }
        }
        Map<String, HostTensor> dict = new LinkedHashMap<>();
        Map<String, Map<String, HostTensor>> slots = new LinkedHashMap<>();
        int at = 0;
        for (Parameter prm : params) {
            int n = prm.shape().size();
            dict.put(prm.name(), new HostTensor(prm.shape(), Arrays.copyOfRange(weights, at, at + n)));
            Map<String, HostTensor> bySlot = new LinkedHashMap<>();
            for (int k = 0; k < newState.length; k++) {
                bySlot.put(slotNames.get(k), new HostTensor(prm.shape(), Arrays.copyOfRange(newState[k], at, at + n)));
            }
            if (!bySlot.isEmpty()) {
                slots.put(prm.name(), bySlot);
            }
            at += n;
        }
        if (first.steps() > 0) {
            for (Parameter prm : params) {
                model.backend().upload(prm.value(), dict.get(prm.name()).data());
            }
            optimizer.importState(new OptimizerState(first.optimizerStep(), slots), params);
            List<dev.receptive.nn.Buffer> buffers = model.buffers();
            for (int i = 0; i < buffers.size(); i++) {
                model.backend().upload(buffers.get(i).value(), first.buffers()[i]);
            }
        }
        // What the driver holds now: the tasks' end state it just applied (or, when no step was
        // applied, the state it started from), which is what every replica kept.
        keptVersion = versions.end();
        keptFingerprint = first.steps() > 0 ? stateFingerprint(weights, newState, first.buffers(), first.optimizerStep())
                : held;
        double seconds = (System.nanoTime() - start) / 1e9;
        lastStage = new StageStats(first.steps(), seconds, maxOf(results, true), maxOf(results, false),
                first.bytesSent(), (int) results.stream().filter(AllReduceStage.Result::readBroadcast).count());
        List<StepResult> out = new ArrayList<>();
        for (int i = 0; i < first.lossSums().length; i++) {
            double meanLoss = first.lossSums()[i] / batchSize;
            if (i == first.steps()) {
                trainingStep.checkLoss(meanLoss, step); // throws: the step diverged and was not applied
            }
            out.add(new StepResult(step, epochs[i], meanLoss, (double) first.correct()[i] / batchSize,
                    seconds / first.steps()));
            step++;
        }
        epoch = e;
        batchInEpoch = inEpoch;
        order = ord;
        maybeCheckpoint();
        return out;
    }

    /** {@return the file the checkpoints go to, or null without a checkpoint folder} */
    public java.nio.file.Path checkpointFile() {
        return checkpointDir == null ? null : checkpointDir.resolve(CHECKPOINT);
    }

    /**
     * Writes a checkpoint when one is due: every {@code checkpointEvery} steps and at the end of
     * every epoch. The driver writes it (atomically: a temporary file, then a rename); the
     * executors never do.
     */
    private void maybeCheckpoint() {
        if (checkpointDir == null) {
            return;
        }
        int perEpoch = dataSize / batchSize;
        boolean due = batchInEpoch == perEpoch || (checkpointEvery > 0 && step % checkpointEvery == 0);
        if (!due) {
            return;
        }
        try {
            java.nio.file.Files.createDirectories(checkpointDir);
            int epochsDone = step / perEpoch;
            new dev.receptive.train.Checkpoint(model.describe(), optimizer.getClass().getSimpleName(),
                    optimizer.exportState(), epochsDone, step, seed, batchSize, dataSize, List.of(), List.of(),
                    checkpointSettings()).write(checkpointFile());
            LOG.log(System.Logger.Level.INFO, "receptive-spark: checkpoint after step " + step + " written to "
                    + checkpointFile());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("receptive-spark: could not write the checkpoint "
                    + checkpointFile() + ": " + e.getMessage(), e);
        }
    }

    /** What a resume must find unchanged, by name. */
    private Map<String, String> checkpointSettings() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("optimizer", optimizer.describe());
        settings.put("lr", Float.toString(baseLr));
        settings.put("schedule", schedule.describe());
        settings.put("data", data.toString());
        settings.put("data_fingerprint", Long.toHexString(fingerprint));
        settings.put("kernels", kernels);
        return settings;
    }

    /**
     * Resume: loads the checkpoint of the folder, when there is one, into the model and the
     * optimizer and continues after its step. Refuses one whose batch size, seed, data (size and
     * fingerprint), architecture or optimizer settings differ from this run's.
     */
    private void resumeFromCheckpoint() {
        java.nio.file.Path file = checkpointFile();
        if (!java.nio.file.Files.exists(file)) {
            LOG.log(System.Logger.Level.INFO, "receptive-spark: no checkpoint at " + file + "; starting afresh");
            return;
        }
        dev.receptive.train.Checkpoint c;
        try {
            c = dev.receptive.train.Checkpoint.read(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("receptive-spark: could not resume from " + file + ": "
                    + e.getMessage(), e);
        }
        Map<String, String> want = checkpointSettings();
        List<String> differ = new ArrayList<>();
        if (c.batchSize() != batchSize) {
            differ.add("batch size " + c.batchSize() + " vs " + batchSize);
        }
        if (c.seed() != seed) {
            differ.add("seed " + c.seed() + " vs " + seed);
        }
        if (c.trainSize() != dataSize) {
            differ.add("training samples " + c.trainSize() + " vs " + dataSize);
        }
        if (!c.model().architecture().equals(model.architecture())) {
            differ.add("the architecture");
        }
        for (String key : List.of("optimizer", "lr", "schedule", "data_fingerprint", "kernels")) {
            if (!want.get(key).equals(c.settings().get(key))) {
                differ.add(key + " " + c.settings().get(key) + " vs " + want.get(key));
            }
        }
        if (!differ.isEmpty()) {
            throw new IllegalArgumentException("SparkTrainer: the checkpoint " + file + " is of another run: "
                    + String.join(", ", differ));
        }
        model.loadStateDict(c.model().state());
        optimizer.importState(c.optimizerState(), model.parameters());
        int perEpoch = dataSize / batchSize;
        step = c.step();
        epoch = step / perEpoch;
        batchInEpoch = step % perEpoch;
        order = batchInEpoch == 0 ? null : Batches.shuffledOrder(dataSize, seed, epoch);
        LOG.log(System.Logger.Level.INFO, "receptive-spark: resumed from " + file + " after step " + step);
    }

    private static double maxOf(List<AllReduceStage.Result> results, boolean exchange) {
        double max = 0;
        for (AllReduceStage.Result r : results) {
            max = Math.max(max, exchange ? r.exchangeSeconds() : r.computeSeconds());
        }
        return max;
    }

    /** {@return per optimizer slot, the state of every parameter end to end; null for an optimizer without state yet} */
    private float[][] exportedState(List<Parameter> params, List<String> slotNames) {
        OptimizerState now = optimizer.exportState();
        if (now.slots().isEmpty()) {
            return null;
        }
        float[][] state = new float[slotNames.size()][];
        for (int k = 0; k < state.length; k++) {
            List<float[]> parts = new ArrayList<>();
            for (Parameter prm : params) {
                parts.add(now.slots().get(prm.name()).get(slotNames.get(k)).data());
            }
            state[k] = AllReduceStage.flat(parts.toArray(new float[0][]), totalWeights(params));
        }
        return state;
    }

    /** {@return every parameter's values end to end, in the model's order} */
    private float[] flatValues(List<Parameter> params) {
        float[][] parts = new float[params.size()][];
        for (int k = 0; k < parts.length; k++) {
            parts[k] = model.backend().download(params.get(k).value());
        }
        return AllReduceStage.flat(parts, totalWeights(params));
    }

    /**
     * A 64-bit fingerprint of a training state (CRC32C and Adler-32 of every float's bits, and the
     * optimizer's step): equal fingerprints mean the driver still holds what the tasks kept.
     */
    private static long stateFingerprint(float[] weights, float[][] state, float[][] buffers, int optimizerStep) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        java.util.zip.Adler32 adler = new java.util.zip.Adler32();
        List<float[]> all = new ArrayList<>();
        all.add(weights);
        if (state != null) {
            all.addAll(Arrays.asList(state));
        }
        all.addAll(Arrays.asList(buffers));
        all.add(new float[] {Float.intBitsToFloat(optimizerStep)});
        for (float[] a : all) {
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(4 * a.length + 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            bytes.putInt(a.length);
            bytes.asFloatBuffer().put(a);
            crc.update(bytes.array());
            adler.update(bytes.array());
        }
        return crc.getValue() << 32 | adler.getValue();
    }

    /** {@return every buffer's values (batch norm's running statistics), in the model's order} */
    private float[][] bufferValues() {
        List<dev.receptive.nn.Buffer> buffers = model.buffers();
        float[][] values = new float[buffers.size()][];
        for (int i = 0; i < values.length; i++) {
            values[i] = model.backend().download(buffers.get(i).value());
        }
        return values;
    }

    private static long newVersion() {
        return VERSIONS.nextLong() | 1; // never 0
    }

    private static int totalWeights(List<Parameter> params) {
        long total = 0;
        for (Parameter p : params) {
            total += p.shape().size();
        }
        return Math.toIntExact(total);
    }

    /** Runs the stage's barrier job, again from the same start when it fails, up to the attempts set. */
    private List<AllReduceStage.Result> runStage(List<AllReduceStage.Plan> plans,
            Broadcast<AllReduceStage.Start> begin, AllReduceStage.Versions versions) {
        for (int attempt = 1;; attempt++) {
            try (Rendezvous rendezvous = new Rendezvous(jsc.getConf().get("spark.driver.host"),
                    jsc.getConf().getInt(RENDEZVOUS_PORT, 0), partitions)) {
                JavaRDD<AllReduceStage.Plan> rdd = jsc.parallelize(plans, partitions);
                return rdd.rdd().barrier().mapPartitions(
                        new AllReduceStage.Task(run, backend, data, begin, exchangeTimeoutMs, rendezvous.ticket(),
                                versions), false,
                        scala.reflect.ClassTag$.MODULE$.<AllReduceStage.Result>apply(AllReduceStage.Result.class))
                        .toJavaRDD().collect();
            } catch (Exception e) { // a SparkException, which Scala throws undeclared
                if (attempt >= stageAttempts || jsc.sc().isStopped()) {
                    throw e instanceof RuntimeException r ? r : new IllegalStateException("receptive-spark: the"
                            + " all-reduce stage from step " + step + " failed " + attempt + " times: " + e.getMessage(), e);
                }
                failedStages = failedStages + 1; // read by listeners; written by this thread only
                LOG.log(System.Logger.Level.WARNING, "receptive-spark: the all-reduce stage from step " + step
                        + " failed (attempt " + attempt + " of " + stageAttempts + "), running it again from its start: "
                        + e.getMessage());
                waitForSlots(); // a lost executor's replacement may still be starting
            }
        }
    }

    /**
     * What the last all-reduce stage measured.
     *
     * @param steps the steps it applied
     * @param seconds its wall time on the driver, from planning to the weights applied
     * @param exchangeSeconds the longest time a task spent in the collectives
     * @param computeSeconds the longest time a task spent computing (passes and its share of the update)
     * @param bytesSent the bytes task 0 sent to its peers in the stage's steps (not its start's hand-over)
     * @param broadcastReads how many tasks read the stage's broadcast; the others started from the state
     *     their executor's replica kept from the stage before
     */
    public record StageStats(int steps, double seconds, double exchangeSeconds, double computeSeconds,
            long bytesSent, int broadcastReads) {
    }

    /** {@return what the last all-reduce stage measured, or null before the first} */
    public StageStats lastStage() {
        return lastStage;
    }

    /** {@return how many all-reduce stages failed and ran again} */
    public int failedStages() {
        return failedStages;
    }

    /**
     * First use: checks the settings against the cluster (gang scheduling), has every partition's
     * executor read the data, and checks it against the model; records the data's normalization
     * and class names in the model as {@code Trainer} does.
     */
    private void prepare() {
        if (dataSize >= 0) {
            return;
        }
        if (gang || stepsPerStage > 0) {
            checkGangSlots();
        }
        List<Integer> one = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            one.add(p);
        }
        List<DataSummary> seen = jsc.parallelize(one, partitions)
                .mapPartitions(new Summarize(data, backend)).collect();
        checkSameKernels(seen);
        DataSummary first = seen.get(0);
        for (DataSummary s : seen) {
            if (s.fingerprint() != first.fingerprint() || s.size() != first.size()) {
                throw new IllegalStateException("receptive-spark: executors read different training data (" + data
                        + "): " + first.size() + " samples on one, " + s.size() + " on another; every executor must see"
                        + " the same files");
            }
        }
        Shape input = model.inputShape();
        if (!Arrays.equals(first.itemShape(), input.dims())) {
            throw new IllegalArgumentException("SparkTrainer: the model takes items of " + input + " but the training"
                    + " data (" + data + ") holds " + Shape.of(first.itemShape()));
        }
        if (model.outputShape().rank() != 1 || model.outputShape().dim(0) != first.classNames().size()) {
            throw new IllegalArgumentException("SparkTrainer: the model's output " + model.outputShape() + " does not"
                    + " fit the " + first.classNames().size() + " classes of " + data);
        }
        if (first.size() < batchSize) {
            throw new IllegalArgumentException("SparkTrainer: the training data has " + first.size()
                    + " samples, fewer than one batch of " + batchSize);
        }
        Normalization norm = first.mean() == null ? null : new Normalization(first.mean(), first.std());
        model.setInfo(new ModelInfo(norm, first.classNames()));
        dataSize = first.size();
        fingerprint = first.fingerprint();
        kernels = first.kernels();
        if (resume) {
            resumeFromCheckpoint();
        }
        LOG.log(System.Logger.Level.INFO, "receptive-spark: training on " + dataSize + " samples of " + data + " in "
                + partitions + " partitions, batch " + batchSize + "; executors' kernels " + kernels);
    }

    /** Fails fast when a barrier stage of this many partitions cannot run (see {@link TaskSlots}). */
    private void checkGangSlots() {
        var sc = jsc.sc();
        TaskSlots.checkGang(sc.getConf(), sc.master(), waitForSlots(), partitions);
    }

    /**
     * Waits up to {@code spark.scheduler.maxRegisteredResourcesWaitingTime} (none in local mode)
     * for a task slot per partition: executors may still be registering, or replacing a lost one.
     *
     * @return the slots available at the end, or -1 when they cannot be counted
     */
    private int waitForSlots() {
        var sc = jsc.sc();
        long waitMs = sc.master().startsWith("local") ? 0
                : sc.getConf().getTimeAsMs("spark.scheduler.maxRegisteredResourcesWaitingTime", "30s");
        long deadline = System.currentTimeMillis() + waitMs;
        int slots = TaskSlots.available(sc);
        while (slots >= 0 && slots < partitions && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(500); // executors may still be registering
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            slots = TaskSlots.available(sc);
        }
        return slots;
    }

    /**
     * Asks the executors to close this run's replicas, with one small task per default-parallelism
     * slot (best effort: an executor no task reaches closes them when another run starts there, or
     * when it stops). The model and optimizer stay the caller's.
     */
    @Override
    public void close() {
        order = null;
        trainingStep.close();
        loss.close();
        if (dataSize < 0 || jsc.sc().isStopped()) {
            return;
        }
        int slots = Math.max(1, jsc.defaultParallelism());
        List<Integer> tasks = new ArrayList<>();
        for (int i = 0; i < slots; i++) {
            tasks.add(i);
        }
        String id = run;
        jsc.parallelize(tasks, slots).foreach(i -> ExecutorResources.dropRun(id));
    }

    // ---- what runs on the executors ------------------------------------------------------------

    /** What an executor saw of the training data. */
    record DataSummary(int size, int[] itemShape, List<String> classNames, Double mean, Double std, long fingerprint,
            String kernels) implements Serializable {
    }

    /**
     * Refuses executors whose backends compute with different kernel sets (an AVX2 host beside an
     * AVX-512 one, a JVM without the Vector API module): their shards' gradients would differ in
     * the last bits, so the result would depend on where each shard ran.
     *
     * @param seen what each partition's executor reported
     * @throws IllegalStateException naming two kernel sets that differ
     */
    static void checkSameKernels(List<DataSummary> seen) {
        String first = seen.get(0).kernels();
        for (DataSummary s : seen) {
            if (!s.kernels().equals(first)) {
                throw new IllegalStateException("receptive-spark: executors compute with different kernel sets ("
                        + first + " on one, " + s.kernels() + " on another), so results would depend on which executor"
                        + " ran each shard; give every executor the same JVM options (--add-modules"
                        + " jdk.incubator.vector, -XX:MaxVectorSize) or force the reference kernels with"
                        + " -Dreceptive.cpu.vector=false");
            }
        }
    }

    private static final class Summarize implements FlatMapFunction<Iterator<Integer>, DataSummary> {
        private static final long serialVersionUID = 1L;
        private final TrainingData data;
        private final String backend;

        Summarize(TrainingData data, String backend) {
            this.data = data;
            this.backend = backend;
        }

        @Override
        public Iterator<DataSummary> call(Iterator<Integer> ignored) {
            ExecutorResources.LoadedData loaded = ExecutorResources.dataset(data);
            Dataset d = loaded.data();
            Normalization n = d.normalization();
            return List.of(new DataSummary(d.size(), d.itemShape().dims(), new ArrayList<>(d.classNames()),
                    n == null ? null : n.mean(), n == null ? null : n.std(), loaded.fingerprint(),
                    kernelSet(ExecutorResources.backendForTask(backend).backend()))).iterator();
        }
    }

    /** A task's work: its shard's gradient on the executor's backend, with a replica kept for later steps. */
    private static final class ComputeShard implements Function<Shard, ShardResult> {
        private static final long serialVersionUID = 1L;
        private final String run;
        private final String backend;
        private final TrainingData data;
        private final Broadcast<ModelDescription> weights;

        ComputeShard(String run, String backend, TrainingData data, Broadcast<ModelDescription> weights) {
            this.run = run;
            this.backend = backend;
            this.data = data;
            this.weights = weights;
        }

        @Override
        public ShardResult call(Shard shard) {
            ExecutorResources.SharedBackend shared = ExecutorResources.backendForTask(backend);
            ExecutorResources.LoadedData loaded = ExecutorResources.dataset(data);
            Replica replica = ExecutorResources.borrowReplica(run, r -> new Replica(r, shared, weights.value()));
            boolean healthy = false;
            try {
                ShardResult result = replica.compute(shard, weights.id(), weights.value(), loaded);
                healthy = true;
                return result;
            } finally {
                ExecutorResources.release(replica, healthy);
            }
        }

    }

    /** The same work in a barrier stage, whose partitions Spark starts together. */
    private static final class InBarrier
            extends AbstractFunction1<scala.collection.Iterator<Shard>, scala.collection.Iterator<ShardResult>>
            implements Serializable {
        private static final long serialVersionUID = 1L;
        private final ComputeShard compute;

        InBarrier(ComputeShard compute) {
            this.compute = compute;
        }

        @Override
        public scala.collection.Iterator<ShardResult> apply(scala.collection.Iterator<Shard> shards) {
            List<ShardResult> out = new ArrayList<>();
            while (shards.hasNext()) {
                out.add(compute.call(shards.next()));
            }
            return CollectionConverters.asScala(out.iterator());
        }
    }

    /** {@return the backend's engine and kernel set, e.g. "cpu: Vector API, 256-bit"} */
    static String kernelSet(dev.receptive.backend.Backend b) {
        return b.capabilities().engine() + ": " + b.capabilities().kernels();
    }

    /** An unknown backend name fails on the driver, not in every task. */
    static void checkBackendName(String backend, String who) {
        String b = backend == null ? "" : backend.trim().toLowerCase(Locale.ROOT);
        if (!b.equals("auto") && Backends.provider(b).isEmpty()) {
            throw new IllegalArgumentException(who + ": unknown backend '" + backend + "'; use auto"
                    + Backends.providers().stream().map(p -> " or " + p.name()).collect(Collectors.joining())
                    + (b.equals("cuda") ? " (cuda needs the receptive-cuda jar with the application)" : ""));
        }
    }

    /** Builds a {@link SparkTrainer}: spark, model, optimizer and data are required. */
    public static final class Builder {
        private SparkSession spark;
        private Model model;
        private Optimizer optimizer;
        private TrainingData data;
        private int batchSize = 64;
        private int partitions = -1;
        private long seed = 1;
        private String backend = "auto";
        private boolean gang;
        private int stepsPerStage;
        private int stageAttempts = 3;
        private long exchangeTimeoutMs = 600_000;
        private java.nio.file.Path checkpointDir;
        private int checkpointEvery;
        private boolean resume;
        private LrSchedule schedule = LrSchedule.constant();

        private Builder() {
        }

        /**
         * The Spark session whose executors compute the gradients (required).
         *
         * @param spark the session
         * @return this builder
         */
        public Builder spark(SparkSession spark) {
            this.spark = spark;
            return this;
        }

        /**
         * The model to train (required); it stays on the driver, whose backend holds the weights and the
         * optimizer's state. The caller keeps owning it.
         *
         * @param model a classifier; with buffers (batch norm) only for {@link #allReduce(int)}
         * @return this builder
         */
        public Builder model(Model model) {
            this.model = model;
            return this;
        }

        /**
         * The optimizer applied on the driver to the summed gradient (required); the caller keeps owning it.
         *
         * @param optimizer e.g. {@code Optimizer.adam(1e-3).build()}
         * @return this builder
         */
        public Builder optimizer(Optimizer optimizer) {
            this.optimizer = optimizer;
            return this;
        }

        /**
         * Where the executors read the training data (required).
         *
         * @param data a folder every executor sees at the same path
         * @return this builder
         */
        public Builder data(TrainingData data) {
            this.data = data;
            return this;
        }

        /**
         * The learning rate per epoch, as {@code Trainer}'s (constant by default): the optimizer's
         * rate when the trainer is built is the base rate the schedule scales.
         *
         * @param schedule not null, checked by {@link #build()}
         * @return this builder
         */
        public Builder schedule(LrSchedule schedule) {
            this.schedule = schedule;
            return this;
        }

        /**
         * The global batch size B (default 64), split over the partitions.
         *
         * @param batchSize ≥ 1, checked by {@link #build()}
         * @return this builder
         */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /**
         * The number of shards per step (default: Spark's default parallelism, at most the batch size).
         *
         * @param partitions between 1 and the batch size, checked by {@link #build()}
         * @return this builder
         */
        public Builder partitions(int partitions) {
            this.partitions = partitions;
            return this;
        }

        /**
         * The seed of the epochs' shuffles (default 1), as {@code Trainer}'s.
         *
         * @param seed any value
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * The executors' backend: "auto" (default: a GPU where Spark assigned the task one, else the
         * CPU), "cpu", or "cuda" (every task must be assigned a GPU).
         *
         * @param backend the name, checked by {@link #build()}
         * @return this builder
         */
        public Builder backend(String backend) {
            this.backend = backend;
            return this;
        }

        /**
         * Runs each step as a barrier stage, so that all shards start together or not at all (one GPU
         * per task, no shard waiting for a slot). Refused with dynamic allocation and when the
         * application has fewer task slots than partitions (checked at the first step).
         *
         * @param on true for barrier stages; off by default
         * @return this builder
         */
        public Builder gangScheduled(boolean on) {
            this.gang = on;
            return this;
        }

        /**
         * Trains with an all-reduce among the tasks instead of through the driver: each barrier stage
         * runs up to {@code stepsPerStage} steps (and ends with its epoch); its tasks exchange
         * gradients and weights with each other over sockets (see {@link PeerGroup}), each holding a
         * replica and its slice of the optimizer state, and the driver sees the weights only at the
         * stage's ends. Needs a task slot per partition, as gang scheduling; SGD or Adam. The results
         * are bit-identical to the driver's sum (the same additions in the same order).
         *
         * @param stepsPerStage ≥ 1 for all-reduce stages; 0 (the default) for a Spark job per step
         * @return this builder
         */
        public Builder allReduce(int stepsPerStage) {
            this.stepsPerStage = stepsPerStage;
            return this;
        }

        /**
         * Writes a checkpoint (model, optimizer state, step; {@code checkpoint.safetensors}) into
         * {@code dir} every {@code everySteps} steps and at the end of every epoch, from the driver,
         * atomically (a crash leaves the previous one). All-reduce stages end where one is due.
         *
         * @param dir a folder; made when missing
         * @param everySteps ≥ 1, or 0 for epoch ends only
         * @return this builder
         */
        public Builder checkpoints(java.nio.file.Path dir, int everySteps) {
            this.checkpointDir = dir;
            this.checkpointEvery = everySteps;
            return this;
        }

        /**
         * Continues from the checkpoint in the {@link #checkpoints} folder when there is one (a
         * stopped application run again): the weights, the optimizer state and the position in the
         * epochs are restored on first use, and {@link SparkTrainer#stepCount()} says where it is.
         *
         * @param on true to resume
         * @return this builder
         */
        public Builder resume(boolean on) {
            this.resume = on;
            return this;
        }

        /**
         * How many times an all-reduce stage runs before its failure fails training (default 3): a
         * stage that loses a task or executor runs again from the weights and optimizer state it
         * started from, so the result is that of an undisturbed run.
         *
         * @param attempts ≥ 1
         * @return this builder
         */
        public Builder stageAttempts(int attempts) {
            this.stageAttempts = attempts;
            return this;
        }

        /**
         * How long a task of an all-reduce stage waits for its peers (default 10 minutes).
         *
         * @param millis ≥ 1
         * @return this builder
         */
        public Builder exchangeTimeoutMillis(long millis) {
            this.exchangeTimeoutMs = millis;
            return this;
        }

        /**
         * Checks the settings and makes the trainer; nothing runs on the cluster yet.
         *
         * @return the trainer; close it to release what executors keep for the run
         * @throws IllegalArgumentException when a required part is missing, the model has buffers without all-reduce, the batch size
         *     or partitions are out of range, or the backend name is unknown
         */
        public SparkTrainer build() {
            if (spark == null || model == null || optimizer == null || data == null || schedule == null) {
                throw new IllegalArgumentException("SparkTrainer: spark, model, optimizer, data and schedule must be set");
            }
            if (!model.buffers().isEmpty() && stepsPerStage == 0) {
                throw new IllegalArgumentException("SparkTrainer: the model has buffers (" + model.buffers().get(0).name()
                        + ", …), such as batch norm's running statistics, which the driver's sum would update per"
                        + " shard and lose; train it with allReduce(n), whose batch norms use the global batch's"
                        + " statistics, or with Trainer on one machine");
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("SparkTrainer: batch size must be >= 1, got " + batchSize);
            }
            if (partitions == -1) {
                partitions = Math.min(batchSize, spark.sparkContext().defaultParallelism());
            }
            if (partitions < 1 || partitions > batchSize) {
                throw new IllegalArgumentException("SparkTrainer: partitions must be between 1 and the batch size "
                        + batchSize + ", got " + partitions);
            }
            if (stepsPerStage < 0 || stageAttempts < 1 || exchangeTimeoutMs < 1) {
                throw new IllegalArgumentException("SparkTrainer: all-reduce steps per stage must be >= 0, stage attempts"
                        + " and the exchange timeout >= 1; got " + stepsPerStage + ", " + stageAttempts + " and "
                        + exchangeTimeoutMs);
            }
            if (stepsPerStage > 0) {
                SliceOptimizer.Spec.of(optimizer);
            }
            if (checkpointEvery < 0 || (resume && checkpointDir == null)) {
                throw new IllegalArgumentException("SparkTrainer: checkpoint steps must be >= 0, and resume needs a"
                        + " checkpoint folder");
            }
            checkBackendName(backend, "SparkTrainer");
            return new SparkTrainer(this);
        }
    }
}
