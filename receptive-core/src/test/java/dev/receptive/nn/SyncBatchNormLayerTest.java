package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.nn.loss.Loss;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import dev.receptive.testing.TestBackends;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Synchronized batch statistics ({@link Pass#withBatchStatistics}): a batch of 7 split into
 * shards of 2, 3 and 2 items, each on its own replica and thread, summing their statistics
 * through an in-memory {@link BatchStatistics}, against the whole batch in one pass: the outputs
 * item by item, the parameter gradients added over the shards (each shard's loss gradient
 * weighted n/B), and the running statistics of both batch norms (2d and 1d).
 */
class SyncBatchNormLayerTest {
    private static final int[] SHARDS = {2, 3, 2};
    private static final int BATCH = 7;
    private final Backend backend = TestBackends.cpu(1);

    @AfterEach
    void close() {
        backend.close();
    }

    private Model net() {
        return Sequential.builder().input(2, 5, 5)
                .add(Conv2d.builder().filters(3).kernel(3).padding(1).bias(false).build())
                .add(new BatchNorm2d())
                .add(new Tanh())
                .add(new GlobalAvgPool2d())
                .add(new Flatten())
                .add(Dense.builder().units(4).bias(false).build())
                .add(new BatchNorm1d(1e-3, 0.2))
                .seed(5).build(backend);
    }

    /** The sum over P threads in rank order; two barriers so nobody overwrites a slot still being read. */
    private static final class InMemory {
        private final double[][] slots;
        private final CyclicBarrier barrier;

        InMemory(int parts) {
            slots = new double[parts][];
            barrier = new CyclicBarrier(parts);
        }

        BatchStatistics rank(int r) {
            return values -> {
                slots[r] = values.clone();
                await();
                for (int i = 0; i < values.length; i++) {
                    double s = slots[0][i];
                    for (int q = 1; q < slots.length; q++) {
                        s += slots[q][i];
                    }
                    values[i] = s;
                }
                await();
            };
        }

        private void await() {
            try {
                barrier.await();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private record Outcome(float[] output, Map<String, HostTensor> grads, Map<String, HostTensor> state) {
    }

    /** Forward and backward of items [from, from + n) of x, the loss gradient weighted n / B. */
    private Outcome run(Model model, float[] x, float[] target, int from, int n, BatchStatistics sync) {
        int item = 2 * 5 * 5;
        try (Workspace ws = model.newWorkspace(); Loss loss = Loss.meanSquaredError();
                Tensor t = backend.upload(java.util.Arrays.copyOfRange(target, from * 4, (from + n) * 4),
                        Shape.of(n, 4))) {
            model.zeroGrad();
            Pass pass = Pass.train(0, from);
            Tensor out = ws.forward(java.util.Arrays.copyOfRange(x, from * item, (from + n) * item),
                    sync == null ? pass : pass.withBatchStatistics(sync));
            float[] output = backend.download(out);
            loss.compute(out, t);
            backend.scale(loss.gradient(), loss.gradient(), (float) n / BATCH);
            ws.backward(loss.gradient());
            Map<String, HostTensor> grads = new java.util.LinkedHashMap<>();
            for (Parameter p : model.parameters()) {
                grads.put(p.name(), new HostTensor(p.shape(), backend.download(p.grad())));
            }
            return new Outcome(output, grads, model.stateDict());
        }
    }

    @Test
    void shardsWithSummedStatisticsEqualTheWholeBatchWithinRounding() throws Exception {
        Rand rand = new Rand(21);
        float[] x = rand.uniform(BATCH * 50, -1, 2);
        float[] target = rand.uniform(BATCH * 4, -1, 1);
        Outcome whole;
        try (Model model = net()) {
            whole = run(model, x, target, 0, BATCH, null);
        }
        List<Model> replicas = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(SHARDS.length);
        try {
            InMemory sync = new InMemory(SHARDS.length);
            List<Future<Outcome>> futures = new ArrayList<>();
            int from = 0;
            for (int r = 0; r < SHARDS.length; r++) {
                Model m = net();
                replicas.add(m);
                int start = from;
                int n = SHARDS[r];
                BatchStatistics s = sync.rank(r);
                futures.add(pool.submit(() -> run(m, x, target, start, n, s)));
                from += n;
            }
            float[] output = new float[BATCH * 4];
            Map<String, float[]> grads = new java.util.LinkedHashMap<>();
            from = 0;
            for (int r = 0; r < SHARDS.length; r++) {
                Outcome o = futures.get(r).get();
                System.arraycopy(o.output(), 0, output, from * 4, o.output().length);
                from += SHARDS[r];
                for (var e : o.grads().entrySet()) {
                    float[] g = grads.computeIfAbsent(e.getKey(), k -> new float[e.getValue().data().length]);
                    for (int i = 0; i < g.length; i++) {
                        g[i] += e.getValue().data()[i];
                    }
                }
                // Every replica ends with the same running statistics: those of the whole batch.
                for (var e : whole.state().entrySet()) {
                    if (e.getKey().contains("running") || e.getKey().endsWith("num_batches_tracked")) {
                        assertClose(e.getValue().data(), o.state().get(e.getKey()).data(), 1e-6, 1e-5,
                                "replica " + r + ", " + e.getKey());
                    }
                }
            }
            // fp32 rounding: the statistics come from each shard's float mean and 1/σ and are
            // summed in double, and the input gradient gets its correction in a second op. Outputs
            // and gradients are O(1); measured at most 3.6e-7 (outputs) and 1.1e-7 (gradients) apart
            // on both CPU kernel sets; 2e-6 + 1e-5·|e| leaves a margin of five, while a wrong mean,
            // σ or correction term moves them by 1e-2 or more.
            assertClose(whole.output(), output, 2e-6, 1e-5, "outputs");
            for (var e : whole.grads().entrySet()) {
                assertClose(e.getValue().data(), grads.get(e.getKey()), 2e-6, 1e-5, "gradient of " + e.getKey());
            }
        } finally {
            pool.shutdownNow();
            replicas.forEach(Model::close);
        }
    }

    @Test
    void anEvaluationPassHasNoBatchStatistics() {
        assertThrows(IllegalStateException.class, () -> Pass.EVAL.withBatchStatistics(v -> { }));
        assertTrue(Pass.train(1).withBatchStatistics(v -> { }).toString().contains("synchronized"));
    }

    private static void assertClose(float[] expected, float[] actual, double atol, double rtol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]),
                    what + " [" + i + "]: " + actual[i] + " vs " + expected[i]);
        }
    }
}
