package dev.receptive.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Layer;
import dev.receptive.nn.Model;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Predictor;
import dev.receptive.nn.Scratch;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import dev.receptive.testing.TestBackends;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A model being trained is not predicted on: while a training step holds it, the predictor
 * refuses (its weights change from step to step, so answers would mix weights), and a training
 * step waits for predictions already running instead of changing weights under them.
 */
class TrainingHoldTest {
    private static final int BATCH = 8;
    private final Backend backend = TestBackends.cpu(2);

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void aModelHeldByATrainingStepRefusesPredictionsUntilTheStepIsClosed() throws Exception {
        try (Model model = Sequential.builder().input(6).add(Dense.builder().units(4).build()).seed(2).build(backend);
                Loss loss = Loss.softmaxCrossEntropy(); Optimizer sgd = Optimizer.sgd(0.5).build()) {
            Rand rand = new Rand(4);
            float[] image = rand.uniform(6, -1, 1);
            float[] before = model.predict(image);
            ExecutorService other = Executors.newSingleThreadExecutor();
            try (TrainingStep step = new TrainingStep(model, loss, sgd, LrSchedule.constant(), 1)) {
                assertTrue(model.inTraining());
                // Another thread predicts while this one trains: refused, never an answer of half-changed weights.
                Future<float[]> racing = other.submit(() -> model.predict(image));
                for (int s = 0; s < 5; s++) {
                    step.start(0, s);
                    step.gradients(rand.uniform(BATCH * 6, -1, 1), rand.labels(BATCH, 4), BATCH, s, 0, 1f, null);
                    step.update();
                }
                Exception e = assertThrows(Exception.class, () -> racing.get(30, TimeUnit.SECONDS));
                assertTrue(e.getCause() instanceof IllegalStateException, "" + e.getCause());
                assertTrue(e.getCause().getMessage().contains("being trained"), e.getCause().getMessage());
            } finally {
                other.shutdownNow();
            }
            assertFalse(model.inTraining());
            float[] after = model.predict(image);
            assertEquals(4, after.length);
            assertFalse(java.util.Arrays.equals(before, after), "five SGD steps at rate 0.5 changed the answer");
        }
    }

    @Test
    void holdsNestAndUnbalancedEndsAreRefused() {
        try (Model model = Sequential.builder().input(3).add(Dense.builder().units(2).build()).build(backend)) {
            model.beginTraining();
            model.beginTraining();
            model.endTraining();
            assertThrows(IllegalStateException.class, () -> model.predict(new float[3]));
            model.endTraining();
            assertEquals(2, model.predict(new float[3]).length);
            assertThrows(IllegalStateException.class, model::endTraining);
        }
    }

    /** Copies its input and waits inside an evaluation pass until released. */
    private static final class Gate extends Layer {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        protected Shape inferOutputShape(Shape in) {
            return in;
        }

        @Override
        protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
            backend().copy(y, x);
            if (!pass.training()) {
                entered.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
            if (dx != null) {
                backend().copy(dx, dy);
            }
        }
    }

    @Test
    void aTrainingStepWaitsForAPredictionThatIsRunning() throws Exception {
        Gate gate = new Gate();
        try (Model model = Sequential.builder().input(3).add(Dense.builder().units(3).build()).add(gate).build(backend);
                Loss loss = Loss.softmaxCrossEntropy(); Optimizer sgd = Optimizer.sgd(0.1).build()) {
            Predictor predictor = model.predictor();
            float[] x = {1, 2, 3};
            ExecutorService threads = Executors.newFixedThreadPool(2);
            try {
                Future<float[]> predicting = threads.submit(() -> predictor.outputs(x));
                assertTrue(gate.entered.await(30, TimeUnit.SECONDS));
                Future<TrainingStep> training = threads.submit(() -> new TrainingStep(model, loss, sgd,
                        LrSchedule.constant(), 1));
                assertThrows(TimeoutException.class, () -> training.get(300, TimeUnit.MILLISECONDS),
                        "the step must not start while a prediction reads the weights");
                gate.release.countDown();
                assertEquals(3, predicting.get(30, TimeUnit.SECONDS).length);
                try (TrainingStep step = training.get(30, TimeUnit.SECONDS)) {
                    assertTrue(model.inTraining());
                    assertEquals(model, step.model());
                }
            } finally {
                threads.shutdownNow();
            }
        }
    }
}
