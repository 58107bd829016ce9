package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Allocation;
import dev.receptive.testing.Rand;
import dev.receptive.testing.TestBackends;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The predictor's memory is bounded: requests run in power-of-two buckets (padded, with the same
 * bits as unpadded passes), its workspaces never hold more than the budget, and inference
 * workspaces keep no gradient tensors.
 */
class PredictorMemoryTest {
    private final Backend backend = TestBackends.cpu(2);

    @AfterEach
    void close() {
        backend.close();
    }

    /** Conv, pool, residual add and dense, on 1×8×8 inputs: every item computed on its own. */
    private Model small() {
        return Graph.builder().input(1, 8, 8)
                .add("conv", Conv2d.builder().filters(4).kernel(3).padding(1).build(), Model.INPUT)
                .add("relu", new ReLU(), "conv")
                .add("conv2", Conv2d.builder().filters(4).kernel(3).padding(1).build(), "relu")
                .add("sum", new Add(), "conv2", "conv")
                .add("pool", new MaxPool2d(2), "sum")
                .add("flat", new Flatten(), "pool")
                .add("out", Dense.builder().units(5).build(), "flat")
                .output("out").seed(7).build(backend);
    }

    /** What an unpadded pass of exactly these items gives, in a training workspace of their own. */
    private static float[] unpadded(Model model, float[] x) {
        try (Workspace ws = model.newWorkspace()) {
            return ws.forward(x, Pass.EVAL).toArray();
        }
    }

    @Test
    void everyRequestSizeGivesTheBitsOfAnUnpaddedPass() {
        try (Model model = small()) {
            Predictor predictor = model.predictor();
            int item = model.inputShape().size();
            Rand rand = new Rand(3);
            // 1..9 cover buckets 1, 2, 4, 8 and 16 with padding; 64, 65 and 300 the largest bucket and splits.
            for (int n : new int[] {1, 2, 3, 4, 5, 7, 8, 9, 64, 65, 300}) {
                float[] x = rand.uniform(n * item, -1, 1);
                assertArrayEquals(unpadded(model, x), predictor.outputs(x), n + " items");
            }
            // A budget that holds only the bucket of 4 splits a request of 11 into passes of 4, 4 and 3 (padded to 4).
            predictor.setMemoryBudget(predictor.bucketBytes(4));
            float[] x = rand.uniform(11 * item, -1, 1);
            assertArrayEquals(unpadded(model, x), predictor.outputs(x), "11 items in passes of 4");
            assertTrue(predictor.workspaceBytes() <= predictor.bucketBytes(4), "" + predictor.workspaceBytes());
        }
    }

    @Test
    void batchSizesOneToSixtyFourFromManyThreadsStayUnderTheBudget() throws Exception {
        try (Model model = small()) {
            Predictor predictor = model.predictor();
            // Room for the buckets of 64 and 32 together, not for every bucket at once (which would be 64+32+...+1).
            long budget = predictor.bucketBytes(64) + predictor.bucketBytes(32);
            predictor.setMemoryBudget(budget);
            assertEquals(budget, predictor.memoryBudget());
            int item = model.inputShape().size();
            AtomicLong most = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    long seed = t;
                    done.add(pool.submit(() -> {
                        Rand rand = new Rand(seed);
                        for (int i = 0; i < 150; i++) {
                            int n = rand.nextInt(1, 64);
                            float[] y = predictor.outputs(rand.uniform(n * item, -1, 1));
                            assertEquals(n * 5, y.length);
                            most.accumulateAndGet(predictor.workspaceBytes(), Math::max);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(120, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(most.get() <= budget, "the workspaces held " + most.get() + " bytes, over the budget of " + budget);
            assertTrue(most.get() > budget / 4, "the cache was used: " + most.get());
            // Lowering the budget closes idle workspaces at once; trim closes the rest.
            predictor.setMemoryBudget(predictor.bucketBytes(8));
            assertTrue(predictor.workspaceBytes() <= predictor.bucketBytes(8), "" + predictor.workspaceBytes());
            predictor.trim();
            assertEquals(0, predictor.workspaceBytes());
        }
    }

    @Test
    void aBudgetBelowOneWorkspaceStillAnswersOneCallAtATime() throws Exception {
        try (Model model = small()) {
            Predictor predictor = model.predictor();
            predictor.setMemoryBudget(0);
            int item = model.inputShape().size();
            Rand rand = new Rand(9);
            List<float[]> inputs = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                inputs.add(rand.uniform((1 + i % 6) * item, -1, 1));
            }
            List<float[]> expected = new ArrayList<>();
            for (float[] x : inputs) {
                expected.add(unpadded(model, x));
            }
            AtomicLong most = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int i = 0; i < inputs.size(); i++) {
                    int k = i;
                    done.add(pool.submit(() -> {
                        assertArrayEquals(expected.get(k), predictor.outputs(inputs.get(k)), "request " + k);
                        most.accumulateAndGet(predictor.workspaceBytes(), Math::max);
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(most.get() <= predictor.bucketBytes(8), "one workspace at a time: " + most.get());
            assertEquals(0, predictor.workspaceBytes(), "nothing is kept over a zero budget");
            assertThrows(IllegalArgumentException.class, () -> predictor.setMemoryBudget(-1));
        }
    }

    @Test
    void theDefaultBudgetIsAQuarterOfTheFreeMemoryAtMostOneGiB() {
        try (Model model = small()) {
            long before = Math.min(Predictor.DEFAULT_MAX_BUDGET, backend.freeMemory() / 4);
            long budget = model.predictor().memoryBudget();
            long after = Math.min(Predictor.DEFAULT_MAX_BUDGET, backend.freeMemory() / 4);
            // The free heap moves between the reads (allocation, or a collection in between), so the budget lies
            // between the two quarters, give or take 5%: far below the factor of 4 under test.
            assertTrue(budget >= Math.min(before, after) * 0.95 && budget <= Math.max(before, after) * 1.05,
                    budget + " vs " + before + ".." + after);
        }
    }

    @Test
    void anInferenceWorkspaceAllocatesNoGradients() {
        try (Model model = small()) {
            int n = 32;
            float[] x = new Rand(1).uniform(n * model.inputShape().size(), -1, 1);
            // A first pass warms up what is made once per process (classes, per-thread scratch of the kernels).
            workspaceAllocation(model.newWorkspace(), x);
            long inference = workspaceAllocation(model.newInferenceWorkspace(), x);
            long training = workspaceAllocation(model.newWorkspace(), x);
            long activations = Workspace.inferenceBytes(model, n);
            // Java arrays carry a header of a few words each; 4 KB is far below one activation tensor here.
            assertTrue(Math.abs(inference - activations) < 4096, inference + " bytes allocated, expected " + activations);
            // Every node but the output has a gradient in a training workspace: nearly twice the activations.
            assertTrue(training > 1.5 * inference, "training " + training + " vs inference " + inference);
        }
    }

    /** The bytes a workspace's first pass allocates beyond a second pass in it (the per-call scratch is the same). */
    private static long workspaceAllocation(Workspace ws, float[] x) {
        try (ws) {
            long start = Allocation.bytes();
            ws.forward(x, Pass.EVAL);
            long first = Allocation.bytes() - start;
            start = Allocation.bytes();
            ws.forward(x, Pass.EVAL);
            return first - (Allocation.bytes() - start);
        }
    }

    @Test
    void anInferenceWorkspaceRefusesTraining() {
        try (Model model = small(); Workspace ws = model.newInferenceWorkspace();
                Tensor dy = backend.allocate(Shape.of(1, 5))) {
            assertTrue(ws.inferenceOnly());
            float[] x = new float[64];
            IllegalArgumentException train = assertThrows(IllegalArgumentException.class, () -> ws.forward(x, Pass.train(0)));
            assertTrue(train.getMessage().contains("Pass.EVAL only"), train.getMessage());
            ws.forward(x, Pass.EVAL);
            IllegalStateException back = assertThrows(IllegalStateException.class, () -> ws.backward(dy));
            assertTrue(back.getMessage().contains("no gradients"), back.getMessage());
        }
    }
}
