package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Activation;
import dev.receptive.backend.Backend;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.Rand;
import dev.receptive.testing.TestBackends;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Each layer must produce exactly what the Backend ops it wraps produce on the same tensors, so
 * tolerances are zero: the layer adds no arithmetic of its own. The layers are built as the only
 * node of a model (which allocates their parameters) and their hooks are called directly.
 */
class LayerOpsTest {
    private static final int N = 3;
    private final Backend backend = TestBackends.cpu(1);
    private final Rand rand = new Rand(7);
    private final List<AutoCloseable> made = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        scratch.close();
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
        made.add(Graph.builder().input(itemDims).add("l4", layer, Model.INPUT).output("l4").seed(99).build(backend));
        return layer;
    }

    private final Scratch scratch = new Scratch(backend);
    private Tensor lastX;
    private Tensor lastY;
    private Pass lastPass;

    /** The layer's forward hook on x, into a new y. */
    private Tensor forward(Layer layer, Tensor x, Pass pass) {
        Tensor y = zeros(Model.batched(x.shape().dim(0), layer.outputShape()));
        layer.forward(y, x, pass, scratch);
        lastX = x;
        lastY = y;
        lastPass = pass;
        return y;
    }

    /** The layer's backward hook for the last forward call, into a new dx. */
    private Tensor backward(Layer layer, Tensor dy) {
        Tensor dx = zeros(lastX.shape());
        layer.backward(dx, dy, lastX, lastY, lastPass, scratch);
        return dx;
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
        assertEquals("l4.weight", w.name());
        assertEquals(Shape.of(4, 2, 3, 2), w.shape());
        assertEquals(Shape.of(4), b.shape());
        backend.upload(b.value(), rand.uniform(4, -1, 1)); // biases start at zero; make them count

        Tensor x = random(N, 2, 7, 6);
        Tensor y = forward(conv, x, Pass.train(0));
        Tensor yRef = zeros(Shape.of(N, 4, 4, 6));
        backend.conv2dForward(yRef, x, w.value(), b.value(), p);
        same("y", yRef, y);

        Tensor dy = random(N, 4, 4, 6);
        Tensor dx = backward(conv, dy);
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
        same("y", yRef, forward(conv, x, Pass.EVAL));
    }

    @Test
    void poolingLayersAreThePoolOps() {
        for (PoolMode mode : PoolMode.values()) {
            Pool2dParams p = Pool2dParams.of(3, 2, 1);
            Pool2d pool = built(mode == PoolMode.MAX ? new MaxPool2d(3, 2, 1) : new AvgPool2d(3, 2, 1), 2, 5, 6);
            assertEquals(Shape.of(2, 3, 3), pool.outputShape());
            assertTrue(pool.parameters().isEmpty());
            Tensor x = random(N, 2, 5, 6);
            Tensor y = forward(pool, x, Pass.train(1));
            Tensor yRef = zeros(y.shape());
            backend.pool2dForward(mode, yRef, x, p);
            same(mode + " y", yRef, y);
            Tensor dy = random(N, 2, 3, 3);
            Tensor dxRef = zeros(x.shape());
            backend.pool2dBackward(mode, dxRef, dy, x, yRef, p);
            same(mode + " dx", dxRef, backward(pool, dy));
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
        same("y", yRef, forward(dense, x, Pass.EVAL));
        Tensor dy = random(N, 5);
        Tensor dxRef = zeros(x.shape());
        Tensor dwRef = zeros(w.shape());
        Tensor dbRef = zeros(b.shape());
        backend.denseBackward(dxRef, dwRef, dbRef, dy, x, w.value(), false);
        same("dx", dxRef, backward(dense, dy));
        same("dw", dwRef, w.grad());
        same("db", dbRef, b.grad());
    }

    @Test
    void flattenKeepsNchwOrder() {
        Flatten flatten = built(new Flatten(), 2, 3, 2);
        assertEquals(Shape.of(12), flatten.outputShape());
        Tensor x = random(N, 2, 3, 2);
        Tensor y = forward(flatten, x, Pass.EVAL);
        assertEquals(Shape.of(N, 12), y.shape());
        Close.assertClose("y", x.toArray(), y.toArray(), 0, 0);
        Tensor dy = random(N, 12);
        Tensor dx = backward(flatten, dy);
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
            same(fs[i] + " y", yRef, forward(layer, x, Pass.train(0)));
            Tensor dy = random(N, 2, 3, 3);
            Tensor dxRef = zeros(x.shape());
            backend.activationBackward(fs[i], dxRef, dy, yRef);
            same(fs[i] + " dx", dxRef, backward(layer, dy));
        }
    }

    @Test
    void softmaxIsSoftmaxForwardAndBackward() {
        Softmax softmax = built(new Softmax(), 6);
        Tensor x = random(N, 6);
        Tensor yRef = zeros(x.shape());
        backend.softmaxForward(yRef, x);
        same("y", yRef, forward(softmax, x, Pass.EVAL));
        Tensor dy = random(N, 6);
        Tensor dxRef = zeros(x.shape());
        backend.softmaxBackward(dxRef, dy, yRef);
        same("dx", dxRef, backward(softmax, dy));
    }

    @Test
    void dropoutTrainsWithTheModelSeedItsPositionAndTheStep() {
        Dropout dropout = built(new Dropout(0.5), 64);
        Tensor x = random(N, 64);
        Tensor y = forward(dropout, x, Pass.train(3));
        Tensor yRef = zeros(x.shape());
        backend.dropoutForward(yRef, x, 0.5f, 99, 0, 3, 0); // seed 99 and stream 0 (its position) from built()
        same("train y", yRef, y);
        int zeros = 0;
        for (float v : y.toArray()) {
            zeros += v == 0 ? 1 : 0;
        }
        assertTrue(zeros > 0 && zeros < N * 64, "some but not all elements dropped: " + zeros);

        Tensor dy = random(N, 64);
        Tensor dxRef = zeros(x.shape());
        backend.dropoutBackward(dxRef, dy, 0.5f, 99, 0, 3, 0);
        same("train dx", dxRef, backward(dropout, dy));

        float[] step3 = y.toArray();
        float[] step4 = forward(dropout, x, Pass.train(4)).toArray();
        assertTrue(!java.util.Arrays.equals(step3, step4), "a new step draws a new mask");
    }

    @Test
    void dropoutInEvaluationPassesValuesThrough() {
        Dropout dropout = built(new Dropout(0.5), 2, 2, 2);
        Tensor x = random(N, 2, 2, 2);
        Close.assertClose("eval y", x.toArray(), forward(dropout, x, Pass.EVAL).toArray(), 0, 0);
        Tensor dy = random(N, 2, 2, 2);
        Close.assertClose("eval dx", dy.toArray(), backward(dropout, dy).toArray(), 0, 0);
    }

    @Test
    void parameterGradientsAddUpOverBackwardCalls() {
        Conv2d conv = built(Conv2d.builder().filters(2).kernel(3).padding(1).build(), 1, 5, 5);
        Dense dense = built(Dense.builder().units(3).build(), 4);
        Tensor cx = random(N, 1, 5, 5);
        Tensor cdy = random(N, 2, 5, 5);
        forward(conv, cx, Pass.EVAL);
        backward(conv, cdy);
        float[] once = conv.parameters().get(0).grad().toArray();
        float[] onceBias = conv.parameters().get(1).grad().toArray();
        backward(conv, cdy);
        float[] twice = conv.parameters().get(0).grad().toArray();
        float[] twiceBias = conv.parameters().get(1).grad().toArray();
        for (int i = 0; i < once.length; i++) {
            assertEquals(2 * once[i], twice[i], 1e-6 * Math.abs(once[i]) + 1e-7, "conv weight grad " + i);
        }
        for (int i = 0; i < onceBias.length; i++) {
            assertEquals(2 * onceBias[i], twiceBias[i], 1e-6 * Math.abs(onceBias[i]) + 1e-7, "conv bias grad " + i);
        }
        Tensor dx = random(N, 4);
        forward(dense, dx, Pass.EVAL);
        Tensor ddy = random(N, 3);
        backward(dense, ddy);
        float[] d1 = dense.parameters().get(0).grad().toArray();
        backward(dense, ddy);
        float[] d2 = dense.parameters().get(0).grad().toArray();
        for (int i = 0; i < d1.length; i++) {
            assertEquals(2 * d1[i], d2[i], 1e-6 * Math.abs(d1[i]) + 1e-7, "dense weight grad " + i);
        }
    }

    @Test
    void anUnbuiltLayerSaysSo() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new ReLU().outputShape());
        assertTrue(e.getMessage().contains("not built"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> new ReLU().backend());
    }
}
