package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.nn.loss.Loss;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.Rand;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Gradients add up: four micro-batches of 16, each with its sample offset and its loss gradient
 * scaled by 1/4, give the gradients of one batch of 64; and dropout over two shards draws the
 * mask of the whole batch bit for bit. Runs on every backend (one subclass each).
 */
public abstract class AccumulationContract {
    private static final int BATCH = 64;
    private static final int MICRO = 16;
    protected Backend backend;

    /** Makes the backend under test; may abort the test through an assumption. */
    protected abstract Backend createBackend();

    @BeforeEach
    final void open() {
        backend = createBackend();
    }

    @AfterEach
    final void closeBackend() {
        if (backend != null) {
            backend.close();
        }
    }

    /** conv → ReLU → pool → flatten → dropout → dense: every op with a parameter gradient, and a mask. */
    private Model net() {
        return Sequential.builder().input(1, 8, 8)
                .add(Conv2d.builder().filters(4).kernel(3).padding(1).build()).add(new ReLU())
                .add(new MaxPool2d(2)).add(new Flatten()).add(new Dropout(0.5))
                .add(Dense.builder().units(5).build()).seed(9).build(backend);
    }

    /**
     * Tolerance: the batch sums each gradient entry over 64 images in one reduction, the
     * micro-batches in four of 16 added afterwards, and the loss gradient is divided by 64 or by
     * 16 and then 4: the same sums in another order, so the results differ by fp32 rounding, a
     * few ulps of the largest terms. 1e-5 of the largest gradient plus 1e-4 relative covers that
     * with margin; a missing micro-batch, a wrong scale or another dropout mask is off by ≥ 25%.
     */
    @Test
    void fourMicroBatchesAddUpToTheGradientsOfTheWholeBatch() {
        float[] images = new Rand(4).uniform(BATCH * 64, -1, 1);
        float[] labels = new float[BATCH];
        for (int i = 0; i < BATCH; i++) {
            labels[i] = i % 5;
        }
        try (Model model = net(); Loss loss = Loss.softmaxCrossEntropy(); Workspace ws = model.newWorkspace();
                Tensor all = backend.upload(labels, Shape.of(BATCH));
                Tensor part = backend.allocate(Shape.of(MICRO))) {
            model.zeroGrad();
            loss.compute(ws.forward(images, Pass.train(7)), all);
            ws.backward(loss.gradient());
            List<float[]> whole = grads(model);

            model.zeroGrad();
            for (int m = 0; m < BATCH / MICRO; m++) {
                backend.upload(part, Arrays.copyOfRange(labels, m * MICRO, (m + 1) * MICRO));
                Tensor out = ws.forward(Arrays.copyOfRange(images, m * MICRO * 64, (m + 1) * MICRO * 64),
                        Pass.train(7, (long) m * MICRO));
                loss.compute(out, part);
                backend.scale(loss.gradient(), loss.gradient(), 1f / (BATCH / MICRO));
                ws.backward(loss.gradient());
            }
            List<float[]> summed = grads(model);
            for (int i = 0; i < whole.size(); i++) {
                String name = model.parameters().get(i).name();
                float[] w = whole.get(i);
                double max = 0;
                for (float v : w) {
                    max = Math.max(max, Math.abs(v));
                }
                assertTrue(max > 0, name + " has a gradient");
                Close.assertClose(name + " accumulated", w, summed.get(i), 1e-5 * max, 1e-4);
            }
        }
    }

    @Test
    void dropoutOverTwoShardsDrawsTheMaskOfTheWholeBatch() {
        float[] images = new Rand(5).uniform(6 * 64, -1, 1);
        try (Model model = net(); Workspace ws = model.newWorkspace()) {
            float[] whole = ws.forward(images, Pass.train(3)).toArray();
            float[] first = ws.forward(Arrays.copyOfRange(images, 0, 3 * 64), Pass.train(3, 0)).toArray();
            float[] second = ws.forward(Arrays.copyOfRange(images, 3 * 64, 6 * 64), Pass.train(3, 3)).toArray();
            float[] joined = new float[whole.length];
            System.arraycopy(first, 0, joined, 0, first.length);
            System.arraycopy(second, 0, joined, first.length, second.length);
            // The same ops on the same numbers with the same mask: equal bit for bit, per item.
            assertArrayEquals(whole, joined);
            float[] wrongOffset = ws.forward(Arrays.copyOfRange(images, 3 * 64, 6 * 64), Pass.train(3, 0)).toArray();
            assertTrue(!Arrays.equals(second, wrongOffset), "the offset changes the mask");
        }
    }

    private List<float[]> grads(Model model) {
        List<float[]> g = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            g.add(backend.download(p.grad()));
        }
        return g;
    }
}
