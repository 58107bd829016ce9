package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import dev.receptive.testing.TestBackends;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One model serving many threads: the predictor's results are those of single-threaded
 * predictions bit for bit, and a workspace (or a backward pass) used from two threads at once is
 * refused, never silently wrong.
 */
class PredictorConcurrencyTest {
    private static final int THREADS = 8;
    private static final int PREDICTIONS = 500;
    private static final int[] BATCHES = {1, 2, 3, 5, 8};
    private final Backend backend = TestBackends.cpu(2);

    @AfterEach
    void close() {
        backend.close();
    }

    /** A small residual network with every kind of node: conv, pool, add, concat, dense. */
    private Model residual() {
        return Graph.builder().input(1, 12, 12)
                .add("stem", Conv2d.builder().filters(4).kernel(3).padding(1).build(), Model.INPUT)
                .add("relu", new ReLU(), "stem")
                .add("conv", Conv2d.builder().filters(4).kernel(3).padding(1).build(), "relu")
                .add("sum", new Add(), "conv", "stem")
                .add("cat", new Concat(), "sum", "relu")
                .add("pool", new MaxPool2d(2), "cat")
                .add("flat", new Flatten(), "pool")
                .add("drop", new Dropout(0.5), "flat")
                .add("out", Dense.builder().units(10).build(), "drop")
                .output("out").seed(3).build(backend);
    }

    @Test
    void eightThreadsPredictExactlyWhatOneThreadPredicts() throws Exception {
        try (Model model = residual()) {
            int item = model.inputShape().size();
            // Each task: a batch size and its inputs, the same for both runs.
            List<float[]> inputs = new ArrayList<>();
            Rand rand = new Rand(11);
            for (int i = 0; i < THREADS * PREDICTIONS; i++) {
                inputs.add(rand.uniform(BATCHES[i % BATCHES.length] * item, -1, 1));
            }
            List<float[]> expected = new ArrayList<>();
            try (Workspace ws = model.newWorkspace()) {
                for (float[] x : inputs) {
                    expected.add(ws.forward(x, Pass.EVAL).toArray());
                }
            }
            Predictor predictor = model.predictor();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                CountDownLatch start = new CountDownLatch(1);
                for (int t = 0; t < THREADS; t++) {
                    int first = t;
                    done.add(pool.submit(() -> {
                        start.await();
                        int checked = 0;
                        for (int i = first; i < inputs.size(); i += THREADS) {
                            assertArrayEquals(expected.get(i), predictor.outputs(inputs.get(i)), "prediction " + i);
                            checked++;
                        }
                        return checked;
                    }));
                }
                start.countDown();
                int total = 0;
                for (Future<Integer> f : done) {
                    total += f.get(120, TimeUnit.SECONDS);
                }
                assertEquals(THREADS * PREDICTIONS, total);
            } finally {
                pool.shutdownNow();
            }
            // The probabilities of one item are the softmax of its outputs.
            float[] p = model.predict(inputs.get(0));
            double sum = 0;
            for (float v : p) {
                sum += v;
                assertTrue(v > 0 && v < 1, "probability " + v);
            }
            assertEquals(1, sum, 1e-6);
        }
    }

    /** A layer that waits inside forward or backward until released, so a second thread can be caught. */
    private static final class Gate extends Layer {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean holdForward;
        volatile boolean holdBackward;

        @Override
        protected Shape inferOutputShape(Shape in) {
            return in;
        }

        @Override
        protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
            backend().copy(y, x);
            hold(holdForward);
        }

        @Override
        protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
            if (dx != null) {
                backend().copy(dx, dy);
            }
            hold(holdBackward);
        }

        private void hold(boolean on) {
            if (on) {
                entered.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    @Test
    void aWorkspaceUsedByTwoThreadsAtOnceIsRefused() throws Exception {
        Gate gate = new Gate();
        try (Model model = Sequential.builder().input(3).add(Dense.builder().units(3).build()).add(gate).build(backend);
                Workspace ws = model.newWorkspace()) {
            gate.holdForward = true;
            ExecutorService other = Executors.newSingleThreadExecutor();
            try {
                Future<?> inside = other.submit(() -> ws.forward(new float[] {1, 2, 3}, Pass.EVAL));
                assertTrue(gate.entered.await(30, TimeUnit.SECONDS));
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> ws.forward(new float[] {4, 5, 6}, Pass.EVAL));
                assertTrue(e.getMessage().contains("already in use by thread") && e.getMessage().contains("one thread"),
                        e.getMessage());
                gate.release.countDown();
                inside.get(30, TimeUnit.SECONDS);
            } finally {
                other.shutdownNow();
            }
            // Once the other thread is out, this one may use it.
            gate.holdForward = false;
            assertEquals(3, ws.forward(new float[] {4, 5, 6}, Pass.EVAL).size());
        }
    }

    @Test
    void twoBackwardPassesOnOneModelAtOnceAreRefused() throws Exception {
        Gate gate = new Gate();
        try (Model model = Sequential.builder().input(3).add(Dense.builder().units(3).build()).add(gate).build(backend);
                Workspace mine = model.newWorkspace();
                Workspace theirs = model.newWorkspace();
                Tensor dy = backend.upload(new float[] {1, 1, 1}, Shape.of(1, 3))) {
            mine.forward(new float[] {1, 2, 3}, Pass.train(0));
            theirs.forward(new float[] {1, 2, 3}, Pass.train(0));
            gate.holdBackward = true;
            ExecutorService other = Executors.newSingleThreadExecutor();
            try {
                Future<?> inside = other.submit(() -> theirs.backward(dy));
                assertTrue(gate.entered.await(30, TimeUnit.SECONDS));
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> mine.backward(dy));
                assertTrue(e.getMessage().contains("backward pass is already running"), e.getMessage());
                gate.release.countDown();
                inside.get(30, TimeUnit.SECONDS);
            } finally {
                other.shutdownNow();
            }
            gate.holdBackward = false;
            mine.backward(dy);
        }
    }

    @Test
    void predictionsAfterCloseAreRefused() {
        Model model = residual();
        Predictor predictor = model.predictor();
        predictor.outputs(new float[144]);
        model.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> predictor.outputs(new float[144]));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        try (Model other = residual()) {
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> other.predictor().outputs(new float[143]));
            assertTrue(bad.getMessage().contains("not whole items"), bad.getMessage());
            // The one-item methods take exactly one item: two would be normalized, or ranked, together.
            for (float[] two : new float[][] {new float[288], new float[143]}) {
                IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                        () -> other.predictor().probabilities(two));
                assertTrue(e2.getMessage().contains("one item of (1, 12, 12) is 144 values, got " + two.length),
                        e2.getMessage());
                assertThrows(IllegalArgumentException.class, () -> other.predictor().predictClass(two));
                assertThrows(IllegalArgumentException.class, () -> other.predict(two));
            }
        }
    }
}
