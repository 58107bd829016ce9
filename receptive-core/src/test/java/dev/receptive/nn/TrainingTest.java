package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.TestBackends;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * End to end: a small CNN learns a synthetic separable task with Adam. It fails when a gradient
 * has the wrong sign or scale, or when updates do not reach the weights.
 */
class TrainingTest {
    private static final int CLASSES = 3;
    private static final int BATCH = 32;
    private final Backend backend = TestBackends.cpu(1);

    @AfterEach
    void close() {
        backend.close();
    }

    /**
     * 1×6×6 images of noise in [−0.5, 0.5] plus one bright 2×2 block whose place gives the class:
     * top-left, top-right or bottom-centre. Labels are written to {@code labels}.
     */
    private static float[] images(SplittableRandom random, float[] labels) {
        int n = labels.length;
        float[] x = new float[n * 36];
        int[][] corners = {{0, 0}, {0, 4}, {4, 2}};
        for (int i = 0; i < n; i++) {
            int c = random.nextInt(CLASSES);
            labels[i] = c;
            for (int j = 0; j < 36; j++) {
                x[i * 36 + j] = (float) (random.nextDouble() - 0.5);
            }
            for (int r = 0; r < 2; r++) {
                for (int s = 0; s < 2; s++) {
                    x[i * 36 + (corners[c][0] + r) * 6 + corners[c][1] + s] += 2;
                }
            }
        }
        return x;
    }

    @Test
    void adamDrivesTheLossDownOnASeparableProblem() {
        SplittableRandom random = new SplittableRandom(17);
        float[] testLabels = new float[BATCH];
        float[] testImages = images(random, testLabels);
        try (Model model = Sequential.builder().input(1, 6, 6)
                .add(Conv2d.builder().filters(4).kernel(3).padding(1).build()).add(new ReLU())
                .add(new MaxPool2d(2)).add(new Flatten())
                .add(new Dropout(0.1)).add(Dense.builder().units(CLASSES).build())
                .seed(5).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(0.01).build();
                Tensor x = backend.allocate(Shape.of(BATCH, 1, 6, 6));
                Tensor labels = backend.allocate(Shape.of(BATCH));
                Tensor testX = backend.upload(testImages, Shape.of(BATCH, 1, 6, 6));
                Tensor testY = backend.upload(testLabels, Shape.of(BATCH));
                Tensor predicted = backend.allocate(Shape.of(BATCH));
                Workspace ws = model.newWorkspace()) {
            loss.evaluate(ws.forward(testX, Pass.EVAL), testY);
            float initial = loss.value();

            float[] batchLabels = new float[BATCH];
            for (int step = 0; step < 150; step++) {
                backend.upload(x, images(random, batchLabels));
                backend.upload(labels, batchLabels);
                model.zeroGrad();
                loss.compute(ws.forward(x, Pass.train(step)), labels);
                ws.backward(loss.gradient());
                adam.step(model.parameters());
            }

            Tensor logits = ws.forward(testX, Pass.EVAL);
            loss.evaluate(logits, testY);
            float trained = loss.value();
            backend.argmax(predicted, logits);
            float[] guesses = predicted.toArray();
            int correct = 0;
            for (int i = 0; i < BATCH; i++) {
                correct += guesses[i] == testLabels[i] ? 1 : 0;
            }
            assertTrue(initial > 0.5, "an untrained model is unsure: " + initial);
            assertTrue(trained < 0.1, "held-out loss " + initial + " -> " + trained);
            assertEquals(BATCH, correct, "held-out accuracy");
        }
    }
}
