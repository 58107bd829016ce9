package dev.receptive.nn.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.Rand;
import dev.receptive.testing.TestBackends;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Hand-computed values, float32 results of a few ops: atol 1e-6 is a few ulps. */
class LossTest {
    private final Backend backend = TestBackends.cpu(1);

    @AfterEach
    void close() {
        backend.close();
    }

    private Tensor t(float[] data, int... dims) {
        return backend.upload(data, Shape.of(dims));
    }

    @Test
    void softmaxCrossEntropyOfEqualLogitsIsLnTwo() {
        try (Loss loss = Loss.softmaxCrossEntropy(); Tensor z = t(new float[] {0, 0, 3, 3}, 2, 2);
                Tensor labels = t(new float[] {0, 1}, 2)) {
            Tensor l = loss.compute(z, labels);
            assertEquals(Shape.of(1), l.shape());
            Close.assertClose("loss", Math.log(2), loss.value(), 1e-6, 1e-6);
            // dz = (softmax − onehot) / N with N = 2
            Close.assertClose("dz", new double[] {-0.25, 0.25, 0.25, -0.25}, loss.gradient().toArray(), 1e-6, 1e-6);
            assertEquals("softmaxCrossEntropy", loss.name());
        }
    }

    @Test
    void meanSquaredErrorAveragesOverEveryElement() {
        try (Loss loss = Loss.meanSquaredError(); Tensor p = t(new float[] {1, 2, 0, -1}, 2, 2);
                Tensor target = t(new float[] {0, 0, 0, 1}, 2, 2)) {
            loss.compute(p, target);
            Close.assertClose("loss", (1 + 4 + 0 + 4) / 4.0, loss.value(), 1e-6, 1e-6);
            Close.assertClose("dp = 2(p − t)/4", new double[] {0.5, 1, 0, -1}, loss.gradient().toArray(), 1e-6, 1e-6);
        }
    }

    @Test
    void hingeIsPyTorchsMultiMargin() {
        try (Loss loss = Loss.hinge(); Tensor z = t(new float[] {1, 0.5f, -1}, 1, 3); Tensor labels = t(new float[] {0}, 1)) {
            loss.compute(z, labels);
            // max(0, 1 − 1 + 0.5) + max(0, 1 − 1 − 1) = 0.5, divided by 3 classes
            Close.assertClose("loss", 0.5 / 3, loss.value(), 1e-6, 1e-6);
            Close.assertClose("dz", new double[] {-1.0 / 3, 1.0 / 3, 0}, loss.gradient().toArray(), 1e-6, 1e-6);
        }
    }

    @Test
    void theWrapperIsTheBackendOpExactly() {
        Rand rand = new Rand(4);
        try (Loss loss = Loss.softmaxCrossEntropy(); Tensor z = t(rand.uniform(40, -3, 3), 8, 5);
                Tensor labels = t(rand.labels(8, 5), 8); Tensor l = backend.allocate(Shape.of(1));
                Tensor dz = backend.allocate(Shape.of(8, 5))) {
            backend.softmaxCrossEntropy(l, dz, z, labels);
            Close.assertClose("loss", l.toArray(), loss.compute(z, labels).toArray(), 0, 0);
            Close.assertClose("dz", dz.toArray(), loss.gradient().toArray(), 0, 0);
        }
    }

    @Test
    void tensorsAreReusedPerShapeAndEvaluateLeavesTheGradient() {
        Rand rand = new Rand(5);
        try (Loss loss = Loss.softmaxCrossEntropy(); Tensor z = t(rand.uniform(12, -1, 1), 4, 3);
                Tensor z2 = t(rand.uniform(12, -1, 1), 4, 3); Tensor labels = t(rand.labels(4, 3), 4);
                Tensor z6 = t(rand.uniform(18, -1, 1), 6, 3); Tensor labels6 = t(rand.labels(6, 3), 6)) {
            Tensor l = loss.compute(z, labels);
            Tensor g = loss.gradient();
            float[] before = g.toArray();
            assertSame(l, loss.evaluate(z2, labels));
            Close.assertClose("gradient untouched by evaluate", before, g.toArray(), 0, 0);
            assertSame(l, loss.compute(z2, labels));
            assertSame(g, loss.gradient());
            loss.compute(z6, labels6);
            assertNotSame(g, loss.gradient());
            assertTrue(g.isClosed());
            assertEquals(Shape.of(6, 3), loss.gradient().shape());
        }
    }

    @Test
    void misuseIsReported() {
        try (Loss loss = Loss.softmaxCrossEntropy(); Tensor z = t(new float[6], 2, 3); Tensor labels = t(new float[3], 3)) {
            assertThrows(IllegalStateException.class, loss::gradient);
            assertThrows(IllegalStateException.class, loss::value);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> loss.compute(z, labels));
            assertTrue(e.getMessage().contains("labels"), e.getMessage());
        }
    }
}
