package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Activation;
import dev.receptive.backend.Backend;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.backend.cpu.CpuBackend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.Rand;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Each layer must produce exactly what the Backend ops it wraps produce on the same tensors, so
 * tolerances are zero: the layer adds no arithmetic of its own.
 */
class LayerOpsTest {
    private static final int N = 3;
    private final Backend backend = new CpuBackend(1);
    private final Rand rand = new Rand(7);
    private final List<AutoCloseable> made = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = made.size() - 1; i >= 0; i--) {
            made.get(i).close();
        }
        backend.close();
    }

    private Tensor random(int... dims) {
        Tensor t = backend.upload(rand.uniform(Shape.of(dims).size(), -1, 1), Shape.of(dims));
        made.add(t);
        return t;
    }

    private Tensor zeros(Shape shape) {
        Tensor t = backend.allocate(shape);
        made.add(t);
        return t;
    }

    private <L extends Layer> L built(L layer, int... itemDims) {
        layer.build(backend, Shape.of(itemDims), 4, 99);
        made.add(layer);
        return layer;
    }

    private static void same(String what, Tensor expected, Tensor actual) {
        assertEquals(expected.shape(), actual.shape(), what);
        Close.assertClose(what, expected.toArray(), actual.toArray(), 0, 0);
    }

    @Test
    void conv2dIsConvForwardAndItsThreeBackwardOps() {
        Conv2d conv = built(Conv2d.builder().filters(4).kernel(3, 2).stride(2, 1).padding(1).dilation(1, 2).build(),
                2, 7, 6);
        Conv2dParams p = new Conv2dParams(2, 1, 1, 1, 1, 2);
        assertEquals(Shape.of(4, 4, 6), conv.outputShape());
        Parameter w = conv.parameters().get(0);
        Parameter b = conv.parameters().get(1);
        assertEquals("4.weight", w.name());
        assertEquals(Shape.of(4, 2, 3, 2), w.shape());
        assertEquals(Shape.of(4), b.shape());
        backend.upload(b.value(), rand.uniform(4, -1, 1)); // biases start at zero; make them count

        Tensor x = random(N, 2, 7, 6);
        Tensor y = conv.forward(x, Pass.train(0));
        Tensor yRef = zeros(Shape.of(N, 4, 4, 6));
        backend.conv2dForward(yRef, x, w.value(), b.value(), p);
        same("y", yRef, y);

        Tensor dy = random(N, 4, 4, 6);
        Tensor dx = conv.backward(dy);
        Tensor dxRef = zeros(x.shape());
        Tensor dwRef = zeros(w.shape());
        Tensor dbRef = zeros(b.shape());
        backend.conv2dBackwardData(dxRef, dy, w.value(), p);
        backend.conv2dBackwardFilter(dwRef, x, dy, p, false);
        backend.conv2dBackwardBias(dbRef, dy, false);
        same("dx", dxRef, dx);
        same("dw", dwRef, w.grad());
        same("db", dbRef, b.grad());
    }

    @Test
    void conv2dWithoutBiasHasOnlyAWeight() {
        Conv2d conv = built(Conv2d.builder().filters(2).kernel(1).bias(false).build(), 3, 2, 2);
        assertEquals(1, conv.parameters().size());
        Tensor x = random(N, 3, 2, 2);
        Tensor yRef = zeros(Shape.of(N, 2, 2, 2));
        backend.conv2dForward(yRef, x, conv.parameters().get(0).value(), null, Conv2dParams.of(1, 0, 1));
        same("y", yRef, conv.forward(x, Pass.EVAL));
    }

    @Test
    void poolingLayersAreThePoolOps() {
        for (PoolMode mode : PoolMode.values()) {
            Pool2dParams p = Pool2dParams.of(3, 2, 1);
            Pool2d pool = built(mode == PoolMode.MAX ? new MaxPool2d(3, 2, 1) : new AvgPool2d(3, 2, 1), 2, 5, 6);
            assertEquals(Shape.of(2, 3, 3), pool.outputShape());
            assertTrue(pool.parameters().isEmpty());
            Tensor x = random(N, 2, 5, 6);
            Tensor y = pool.forward(x, Pass.train(1));
            Tensor yRef = zeros(y.shape());
            backend.pool2dForward(mode, yRef, x, p);
            same(mode + " y", yRef, y);
            Tensor dy = random(N, 2, 3, 3);
            Tensor dxRef = zeros(x.shape());
            backend.pool2dBackward(mode, dxRef, dy, x, yRef, p);
            same(mode + " dx", dxRef, pool.backward(dy));
        }
    }

    @Test
    void poolDefaultsStrideToTheWindow() {
        assertEquals(Pool2dParams.of(2, 2, 0), new MaxPool2d(2).params());
        assertEquals(Pool2dParams.of(3, 3, 0), new AvgPool2d(3).params());
    }

    @Test
    void denseIsDenseForwardAndBackward() {
        Dense dense = built(Dense.builder().units(5).build(), 7);
        Parameter w = dense.parameters().get(0);
        Parameter b = dense.parameters().get(1);
        assertEquals(Shape.of(5, 7), w.shape());
        backend.upload(b.value(), rand.uniform(5, -1, 1));
        Tensor x = random(N, 7);
        Tensor yRef = zeros(Shape.of(N, 5));
        backend.denseForward(yRef, x, w.value(), b.value());
        same("y", yRef, dense.forward(x, Pass.EVAL));
        Tensor dy = random(N, 5);
        Tensor dxRef = zeros(x.shape());
        Tensor dwRef = zeros(w.shape());
        Tensor dbRef = zeros(b.shape());
        backend.denseBackward(dxRef, dwRef, dbRef, dy, x, w.value(), false);
        same("dx", dxRef, dense.backward(dy));
        same("dw", dwRef, w.grad());
        same("db", dbRef, b.grad());
    }

    @Test
    void flattenKeepsNchwOrder() {
        Flatten flatten = built(new Flatten(), 2, 3, 2);
        assertEquals(Shape.of(12), flatten.outputShape());
        Tensor x = random(N, 2, 3, 2);
        Tensor y = flatten.forward(x, Pass.EVAL);
        assertEquals(Shape.of(N, 12), y.shape());
        Close.assertClose("y", x.toArray(), y.toArray(), 0, 0);
        Tensor dy = random(N, 12);
        Tensor dx = flatten.backward(dy);
        assertEquals(x.shape(), dx.shape());
        Close.assertClose("dx", dy.toArray(), dx.toArray(), 0, 0);
    }

    @Test
    void activationsAreTheActivationOps() {
        List<Layer> layers = List.of(new ReLU(), new Tanh(), new Sigmoid());
        Activation[] fs = {Activation.RELU, Activation.TANH, Activation.SIGMOID};
        for (int i = 0; i < fs.length; i++) {
            Layer layer = built(layers.get(i), 2, 3, 3);
            Tensor x = random(N, 2, 3, 3);
            Tensor yRef = zeros(x.shape());
            backend.activationForward(fs[i], yRef, x);
            same(fs[i] + " y", yRef, layer.forward(x, Pass.train(0)));
            Tensor dy = random(N, 2, 3, 3);
            Tensor dxRef = zeros(x.shape());
            backend.activationBackward(fs[i], dxRef, dy, yRef);
            same(fs[i] + " dx", dxRef, layer.backward(dy));
        }
    }

    @Test
    void softmaxIsSoftmaxForwardAndBackward() {
        Softmax softmax = built(new Softmax(), 6);
        Tensor x = random(N, 6);
        Tensor yRef = zeros(x.shape());
        backend.softmaxForward(yRef, x);
        same("y", yRef, softmax.forward(x, Pass.EVAL));
        Tensor dy = random(N, 6);
        Tensor dxRef = zeros(x.shape());
        backend.softmaxBackward(dxRef, dy, yRef);
        same("dx", dxRef, softmax.backward(dy));
    }

    @Test
    void dropoutTrainsWithTheModelSeedItsIndexAndTheStep() {
        Dropout dropout = built(new Dropout(0.5), 64);
        Tensor x = random(N, 64);
        Tensor y = dropout.forward(x, Pass.train(3));
        Tensor yRef = zeros(x.shape());
        backend.dropoutForward(yRef, x, 0.5f, 99, 4, 3, 0); // seed 99 and index 4 from built()
        same("train y", yRef, y);
        int zeros = 0;
        for (float v : y.toArray()) {
            zeros += v == 0 ? 1 : 0;
        }
        assertTrue(zeros > 0 && zeros < N * 64, "some but not all elements dropped: " + zeros);

        Tensor dy = random(N, 64);
        Tensor dxRef = zeros(x.shape());
        backend.dropoutBackward(dxRef, dy, 0.5f, 99, 4, 3, 0);
        same("train dx", dxRef, dropout.backward(dy));

        float[] step3 = y.toArray();
        float[] step4 = dropout.forward(x, Pass.train(4)).toArray();
        assertTrue(!java.util.Arrays.equals(step3, step4), "a new step draws a new mask");
    }

    @Test
    void dropoutInEvaluationPassesValuesThrough() {
        Dropout dropout = built(new Dropout(0.5), 2, 2, 2);
        Tensor x = random(N, 2, 2, 2);
        Close.assertClose("eval y", x.toArray(), dropout.forward(x, Pass.EVAL).toArray(), 0, 0);
        Tensor dy = random(N, 2, 2, 2);
        Close.assertClose("eval dx", dy.toArray(), dropout.backward(dy).toArray(), 0, 0);
    }

    @Test
    void outputsAreReusedForABatchSizeAndReallocatedWhenItChanges() {
        Dense dense = built(Dense.builder().units(2).build(), 3);
        Tensor x3 = random(3, 3);
        Tensor first = dense.forward(x3, Pass.EVAL);
        assertSame(first, dense.forward(x3, Pass.EVAL));
        Tensor dx = dense.backward(random(3, 2));
        assertSame(dx, dense.backward(random(3, 2)));

        Tensor second = dense.forward(random(5, 3), Pass.EVAL);
        assertNotSame(first, second);
        assertTrue(first.isClosed() && dx.isClosed(), "buffers of the old batch size are freed");
        assertEquals(Shape.of(5, 2), second.shape());
        assertEquals(Shape.of(5, 3), dense.backward(random(5, 2)).shape());
    }

    @Test
    void backwardChecksItsGradientAndOrder() {
        Dense dense = built(Dense.builder().units(2).build(), 3);
        assertThrows(IllegalStateException.class, () -> dense.backward(random(3, 2)));
        dense.forward(random(3, 3), Pass.EVAL);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dense.backward(random(3, 3)));
        assertEquals("layer 4 (Dense): expected gradient (3, 2) but got (3, 3)", e.getMessage());
    }

    @Test
    void anUnbuiltLayerSaysSo() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new ReLU().forward(random(1, 2), Pass.EVAL));
        assertTrue(e.getMessage().contains("not built"), e.getMessage());
    }
}
