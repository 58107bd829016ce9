package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.Batches;
import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Split;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.Parameter;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Workspace;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.train.Trainer;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Synchronous data-parallel training on local[2] against two independent single-process
 * references on the fixture's first epoch (31 steps of 64): the library's own Trainer on whole
 * batches (equal within fp32 rounding), and a loop that computes each shard by itself and adds
 * the shards in partition order (bit for bit). The net has dropout, so the shards' sample offsets
 * must reproduce the whole batch's masks for either to hold.
 */
class DataParallelTrainingTest {
    private static final long SEED = 7;
    private static final int BATCH = 64;
    private static final double LR = 1e-3;
    static Dataset train;
    static int steps;

    @BeforeAll
    static void load() throws IOException {
        train = FashionMnist.load(TinyNet.TRAIN, Split.TRAIN);
        steps = train.size() / BATCH;
    }

    /** Trains on Spark with {@code parts} partitions for one epoch; returns the final state and the steps' losses. */
    private static Map<String, HostTensor> spark(int parts, boolean gang) {
        Map<String, HostTensor> state;
        try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, SEED);
                Optimizer adam = Optimizer.adam(LR).build();
                SparkTrainer trainer = SparkTrainer.builder().spark(SharedSpark.session()).model(model).optimizer(adam)
                        .data(TrainingData.fashionMnist(TinyNet.TRAIN, Split.TRAIN)).batchSize(BATCH).partitions(parts)
                        .seed(SEED).backend("cpu").gangScheduled(gang).build()) {
            assertEquals(steps, trainer.stepsPerEpoch());
            List<SparkTrainer.StepResult> results = trainer.fit(1);
            assertEquals(steps, results.size());
            for (int s = 0; s < steps; s++) {
                assertEquals(s, results.get(s).step());
                assertTrue(Double.isFinite(results.get(s).loss()), "loss of step " + s);
            }
            assertTrue(ExecutorResources.idleReplicas() > 0, "replicas stay on the executor between steps");
            assertEquals(FashionMnist.CLASS_NAMES, model.info().classNames(), "the data's class names are recorded");
            state = model.stateDict();
        }
        assertEquals(0, ExecutorResources.idleReplicas(), "closing the trainer released the executor's replicas");
        return state;
    }

    /** The library's Trainer: one epoch of whole batches in one process. */
    static Map<String, HostTensor> trainer() throws IOException {
        try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, SEED);
                Optimizer adam = Optimizer.adam(LR).build(); Loss loss = Loss.softmaxCrossEntropy()) {
            Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(1).batchSize(BATCH).seed(SEED).build()
                    .fit(train);
            return model.stateDict();
        }
    }

    /**
     * Each step: every shard's gradient computed alone (shard p = samples ⌊pB/P⌋.. of the batch,
     * dropout from that sample on, its mean loss gradient scaled by n/B), downloaded, and added on
     * the host in partition order; then Adam. Written independently of the module's code.
     */
    static Map<String, HostTensor> shardByShard(int parts) {
        int item = train.itemShape().size();
        try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, SEED);
                Optimizer adam = Optimizer.adam(LR).build(); Loss loss = Loss.softmaxCrossEntropy();
                Workspace ws = model.newWorkspace()) {
            int[] order = Batches.shuffledOrder(train.size(), SEED, 0);
            List<Parameter> params = model.parameters();
            for (int step = 0; step < steps; step++) {
                float[][] sum = new float[params.size()][];
                for (int p = 0; p < parts; p++) {
                    int from = BATCH * p / parts;
                    int to = BATCH * (p + 1) / parts;
                    int n = to - from;
                    float[] x = new float[n * item];
                    float[] y = new float[n];
                    for (int r = 0; r < n; r++) {
                        int i = order[step * BATCH + from + r];
                        train.copyImage(i, x, r * item);
                        y[r] = train.label(i);
                    }
                    model.zeroGrad();
                    try (Tensor labels = cpu.upload(y, Shape.of(n))) {
                        loss.compute(ws.forward(x, Pass.train(step, from)), labels);
                        cpu.scale(loss.gradient(), loss.gradient(), (float) n / BATCH);
                        ws.backward(loss.gradient());
                    }
                    for (int k = 0; k < sum.length; k++) {
                        float[] g = cpu.download(params.get(k).grad());
                        if (sum[k] == null) {
                            sum[k] = g;
                        } else {
                            for (int j = 0; j < g.length; j++) {
                                sum[k][j] += g[j];
                            }
                        }
                    }
                }
                for (int k = 0; k < sum.length; k++) {
                    cpu.upload(params.get(k).grad(), sum[k]);
                }
                adam.step(params);
            }
            return model.stateDict();
        }
    }

    @Test
    void twoAndFourShardsEqualTheShardwiseReferenceBitForBitAndTheTrainerWithinRounding() throws IOException {
        Map<String, HostTensor> whole = trainer();
        long created = ExecutorResources.backendsCreated();
        for (int parts : new int[] {2, 4}) {
            Map<String, HostTensor> distributed = spark(parts, false);
            Map<String, HostTensor> exact = shardByShard(parts);
            for (String name : whole.keySet()) {
                assertArrayEquals(exact.get(name).data(), distributed.get(name).data(),
                        parts + " partitions, " + name + ": the shards added in partition order, bit for bit");
                // Whole-batch gradients add the same per-sample terms in another order, so each
                // step's gradient differs by a few ulps; Adam turns a relative gradient change δ
                // into an update change of about lr·δ. The weights (|w| ~ 0.1, ulp 7e-9) measured
                // at most 6e-8 apart after these 31 steps; 1e-6 + 1e-5·|w| leaves a margin of
                // ten and still fails for any real difference (one step more or less, a shard's
                // mask or scale wrong: those move weights by ~lr = 1e-3).
                assertClose(whole.get(name).data(), distributed.get(name).data(), 1e-6, 1e-5,
                        parts + " partitions, " + name + " against the Trainer");
            }
        }
        // 31 steps × (2 + 4) tasks ran on local[2]'s one executor, which made at most one backend.
        assertTrue(ExecutorResources.backendsCreated() - created <= 1, "backends made: "
                + (ExecutorResources.backendsCreated() - created));
        assertEquals(1, ExecutorResources.openBackends());
    }

    @Test
    void twoRunsWithTheSamePartitioningAreBitIdenticalAlsoAsBarrierStages() {
        Map<String, HostTensor> first = spark(2, false);
        Map<String, HostTensor> second = spark(2, true);
        for (String name : first.keySet()) {
            assertArrayEquals(first.get(name).data(), second.get(name).data(), name);
        }
    }

    /** |actual − expected| ≤ atol + rtol·|expected| everywhere, else the first mismatches with their indices. */
    static void assertClose(float[] expected, float[] actual, double atol, double rtol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        StringBuilder bad = new StringBuilder();
        int count = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) {
                if (count++ < 5) {
                    bad.append(String.format(" [%d] %s vs %s;", i, actual[i], expected[i]));
                }
            }
        }
        assertEquals(0, count, what + ": " + count + " values differ beyond " + atol + " + " + rtol + "·|e|:" + bad);
    }
}
