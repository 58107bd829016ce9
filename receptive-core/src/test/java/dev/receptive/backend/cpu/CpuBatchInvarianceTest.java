package dev.receptive.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.receptive.nn.Model;
import dev.receptive.nn.Parameter;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Workspace;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import dev.receptive.zoo.Zoo;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An image's outputs and gradients do not depend on the batch it comes in: each is one sum in a
 * fixed order, whatever the batch size (on both kernel paths; the scalar run repeats this class).
 * A server's predictor and a Spark partition then answer exactly as a single prediction would.
 *
 * <p>The batch sizes reach past the Vector API's tiles: a dense layer's product has the batch as
 * its columns (tiles of 32 or 64 with AVX-512, 16 with AVX2) and its data gradient as its rows
 * (tiles of 12 or 6), below 4 images a dot-product path takes over, and the filter gradient
 * splits the batch into up to 8 groups. So batches of 1, 3, 4, 9, 12, 13, 24, 25, 33, 64 and
 * 65 each start or end a tile, a padded tile or a group differently.
 */
class CpuBatchInvarianceTest {
    private static final int[] SIZES = {3, 4, 9, 12, 13, 24, 25, 33, 64};
    private static final int IMAGES = 65;
    private static final int ITEM = 784;

    @Test
    void anImageAloneAndInBatchesOfEverySizeGivesTheSameBits() {
        float[] images = new Rand(8).uniform(IMAGES * ITEM, -1, 1);
        try (CpuBackend cpu = new CpuBackend(2); Model seed = Zoo.seedNet().seed(3).build(cpu);
                Model resnet = Zoo.build("resnet8", cpu, 3)) {
            for (Model model : new Model[] {seed, resnet}) {
                try (Workspace ws = model.newWorkspace()) {
                    float[] all = ws.forward(images, Pass.EVAL).toArray();
                    for (int image : new int[] {0, 11, 12, IMAGES - 1}) {
                        float[] alone = ws.forward(items(images, image, 1), Pass.EVAL).toArray();
                        assertArrayEquals(Arrays.copyOfRange(all, image * 10, image * 10 + 10), alone,
                                "item " + image + " alone and in a batch of " + IMAGES);
                    }
                    for (int size : SIZES) {
                        // The last items, so that the smaller batches do not all start where the largest does.
                        int start = IMAGES - size;
                        float[] part = ws.forward(items(images, start, size), Pass.EVAL).toArray();
                        assertArrayEquals(Arrays.copyOfRange(all, start * 10, IMAGES * 10), part,
                                "items " + start + ".." + (IMAGES - 1) + " in a batch of " + size);
                    }
                }
            }
        }
    }

    /**
     * Training: a batch's outputs (dropout included, keyed by each image's index in the whole
     * batch) are the rows each image gives alone with its sample offset; and backpropagating an
     * output gradient that is zero except for one image gives that image's own parameter
     * gradients: the other images add exact zeros to every sum. The images checked sit at the
     * ends of tiles and groups.
     */
    @Test
    void aTrainingImageGetsTheSameOutputsAndGradientsInEveryBatch() {
        float[] images = new Rand(9).uniform(IMAGES * ITEM, -1, 1);
        float[] dyRow = new Rand(10).uniform(10, -1, 1);
        int step = 5;
        try (CpuBackend cpu = new CpuBackend(2); Model model = Zoo.seedNet().seed(4).build(cpu);
                Workspace ws = model.newWorkspace()) {
            float[] whole = ws.forward(images, Pass.train(step)).toArray();
            for (int size : new int[] {12, 13, 25, IMAGES}) {
                for (int image : size == IMAGES ? new int[] {0, size - 1} : new int[] {size - 1}) {
                    String what = "image " + image + " in a batch of " + size;
                    float[] inBatch = ws.forward(items(images, 0, size), Pass.train(step)).toArray();
                    assertArrayEquals(Arrays.copyOfRange(whole, 0, size * 10), inBatch, what + ": outputs");
                    Map<String, float[]> batched = gradients(model, ws, size, image, dyRow);

                    float[] alone = ws.forward(items(images, image, 1), Pass.train(step, image)).toArray();
                    assertArrayEquals(Arrays.copyOfRange(whole, image * 10, image * 10 + 10), alone,
                            what + ": alone, outputs");
                    Map<String, float[]> single = gradients(model, ws, 1, 0, dyRow);
                    single.forEach((name, g) -> assertArrayEquals(g, batched.get(name), what + ": " + name));
                }
            }
        }
    }

    /**
     * resnet8's training gradients at batches that fill and overflow the tiles are the same bits on
     * one thread and on three. (Batch normalization couples the images of a training batch, so
     * an image's gradient has no batch-free value to compare with; what must not move it is how
     * the work is split.)
     */
    @Test
    void resnetTrainingGradientsAtTileSizedBatchesDoNotDependOnTheThreadCount() {
        float[] images = new Rand(11).uniform(IMAGES * ITEM, -1, 1);
        for (int size : new int[] {12, 13, IMAGES}) {
            Map<String, float[]> one = resnetGradients(1, images, size);
            Map<String, float[]> three = resnetGradients(3, images, size);
            one.forEach((name, g) -> assertArrayEquals(g, three.get(name), "batch " + size + ": " + name));
        }
    }

    private static Map<String, float[]> resnetGradients(int threads, float[] images, int size) {
        float[] dy = new Rand(12).uniform(size * 10, -1, 1);
        try (CpuBackend cpu = new CpuBackend(threads); Model model = Zoo.build("resnet8", cpu, 5);
                Workspace ws = model.newWorkspace();
                Tensor dOutput = cpu.upload(dy, Shape.of(size, 10))) {
            Map<String, float[]> result = new LinkedHashMap<>();
            result.put("outputs", ws.forward(items(images, 0, size), Pass.train(0)).toArray());
            model.zeroGrad();
            ws.backward(dOutput);
            for (Parameter p : model.parameters()) {
                result.put(p.name(), p.grad().toArray());
            }
            return result;
        }
    }

    /** The parameter gradients of the last forward for an output gradient that is dyRow at row {@code row} only. */
    private static Map<String, float[]> gradients(Model model, Workspace ws, int size, int row, float[] dyRow) {
        float[] dy = new float[size * 10];
        System.arraycopy(dyRow, 0, dy, row * 10, 10);
        try (Tensor dOutput = model.backend().upload(dy, Shape.of(size, 10))) {
            model.zeroGrad();
            ws.backward(dOutput);
        }
        Map<String, float[]> grads = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            grads.put(p.name(), p.grad().toArray());
        }
        return grads;
    }

    private static float[] items(float[] images, int start, int count) {
        return Arrays.copyOfRange(images, start * ITEM, (start + count) * ITEM);
    }
}
