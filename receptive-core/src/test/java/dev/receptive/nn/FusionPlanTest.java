package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.cpu.CpuBackend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import dev.receptive.zoo.Zoo;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The planning passes that run a convolution, dense or batch norm layer and the ReLU reading it
 * as one fused op, and a batch norm, the add of a residual shortcut and the ReLU after it as one:
 * which ones they find, and that a fused workspace computes the bits of an unfused one on the CPU
 * (forward, training with dropout, every parameter gradient and buffer).
 */
class FusionPlanTest {

    @Test
    void theSeedNetworkFusesItsThreeLayersWithTheirRelus() {
        try (CpuBackend cpu = new CpuBackend(1); Model model = Zoo.seedNet().seed(1).build(cpu)) {
            // 0 conv, 1 relu, 2 pool, 3 conv, 4 relu, 5 pool, 6 flatten, 7 dense, 8 relu, 9 dropout, 10 dense
            assertArrayEquals(new int[] {-1, 0, -1, -1, 3, -1, -1, -1, 7, -1, -1}, model.reluFusions());
        }
    }

    @Test
    void aLayerWhoseOutputHasAnotherReaderOrNoReluIsNotFused() {
        try (CpuBackend cpu = new CpuBackend(1);
                Model model = Graph.builder().input(2, 5, 5)
                        .add("conv", Conv2d.builder().filters(2).kernel(3).padding(1).build(), Model.INPUT)
                        .add("relu", new ReLU(), "conv")
                        .add("sum", new Add(), "relu", "conv") // conv is read twice: no fusion
                        .add("tanh", new Tanh(), "sum")
                        .add("conv2", Conv2d.builder().filters(2).kernel(1).build(), "tanh")
                        .add("sig", new Sigmoid(), "conv2") // not a ReLU
                        .add("relu2", new ReLU(), Model.INPUT) // reads the input
                        .add("out", new Add(), "sig", "relu2").output("out").seed(1).build(cpu)) {
            assertArrayEquals(new int[] {-1, -1, -1, -1, -1, -1, -1, -1}, model.reluFusions());
        }
    }

    @Test
    void fusedAndUnfusedWorkspacesGiveTheSameBits() {
        float[] images = new Rand(3).uniform(13 * 784, -1, 1);
        // The seed network (every pair fused, dropout after the last) and a graph whose output is a fused ReLU.
        check(cpu -> Zoo.seedNet().seed(4).build(cpu), images, Shape.of(13, 10));
        check(cpu -> Graph.builder().input(1, 28, 28)
                .add("conv", Conv2d.builder().filters(8).kernel(3).stride(2).build(), Model.INPUT)
                .add("relu", new ReLU(), "conv")
                .add("flat", new Flatten(), "relu")
                .add("dense", Dense.builder().units(6).build(), "flat")
                .add("out", new ReLU(), "dense").output("out").seed(2).build(cpu), images, Shape.of(13, 6));
        // resnet8 and resnet14: batch norm + ReLU pairs and batch norm + add + ReLU tails, with
        // identity and projection shortcuts (training statistics, running statistics in evaluation).
        check(cpu -> Zoo.build("resnet8", Shape.of(1, 28, 28), 10, cpu, 5), images, Shape.of(13, 10));
        check(cpu -> Zoo.build("resnet14", Shape.of(1, 28, 28), 10, cpu, 6), images, Shape.of(13, 10));
        // A tail whose shortcut is the model's input and whose batch norm is the add's second input.
        check(cpu -> Graph.builder().input(1, 28, 28)
                .add("bn", new BatchNorm2d(), Model.INPUT)
                .add("add", new Add(), Model.INPUT, "bn")
                .add("relu", new ReLU(), "add")
                .add("flat", new Flatten(), "relu")
                .add("fc", Dense.builder().units(10).build(), "flat").output("fc").seed(3).build(cpu),
                images, Shape.of(13, 10));
    }

    @Test
    void everyResidualTailOfResnet14Fuses() {
        try (CpuBackend cpu = new CpuBackend(1); Model model = Zoo.build("resnet14", Shape.of(1, 28, 28), 10, cpu, 5)) {
            int[] tails = model.addReluFusions();
            java.util.List<String> fused = new java.util.ArrayList<>();
            for (int j = 0; j < tails.length; j++) {
                if (tails[j] >= 0) {
                    fused.add(model.nodes().get(tails[j]).name() + "+" + model.nodes().get(j).name());
                }
            }
            // Six basic blocks; in the projection blocks (layer2.0, layer3.0) the second batch norm
            // fuses, the shortcut's own batch norm stays on its own.
            assertEquals(java.util.List.of("layer1.0.bn2+layer1.0.relu2", "layer1.1.bn2+layer1.1.relu2",
                    "layer2.0.bn2+layer2.0.relu2", "layer2.1.bn2+layer2.1.relu2", "layer3.0.bn2+layer3.0.relu2",
                    "layer3.1.bn2+layer3.1.relu2"), fused);
        }
    }

    @Test
    void aTailIsNotFusedWhenAValueInsideItHasAnotherReader() {
        try (CpuBackend cpu = new CpuBackend(1);
                Model model = Graph.builder().input(2, 5, 5)
                        .add("bn", new BatchNorm2d(), Model.INPUT)
                        .add("add", new Add(), "bn", Model.INPUT)
                        .add("relu", new ReLU(), "add")
                        .add("bn2", new BatchNorm2d(), "relu")
                        .add("add2", new Add(), "bn2", "relu")
                        .add("relu2", new ReLU(), "add2")
                        .add("again", new Add(), "add2", "bn2") // add2 and bn2 have a second reader
                        .add("bn3", new BatchNorm2d(), "again")
                        .add("add3", new Add(), "bn3", "bn3") // one node twice
                        .add("relu3", new ReLU(), "add3")
                        .add("sum", new Add(), "relu3", "relu2").output("sum").seed(1).build(cpu)) {
            int[] tails = model.addReluFusions();
            java.util.List<String> fused = new java.util.ArrayList<>();
            for (int j = 0; j < tails.length; j++) {
                if (tails[j] >= 0) {
                    fused.add(model.nodes().get(tails[j]).name() + "+" + model.nodes().get(j).name());
                }
            }
            assertEquals(java.util.List.of("bn+relu"), fused);
        }
    }

    @Test
    void resnetBatchNormsFuseWithTheirRelus() {
        try (CpuBackend cpu = new CpuBackend(1); Model model = Zoo.build("resnet8", Shape.of(1, 28, 28), 10, cpu, 5)) {
            int[] fused = model.reluFusions();
            int pairs = 0;
            for (int j = 0; j < fused.length; j++) {
                if (fused[j] >= 0) {
                    pairs++;
                    assertInstanceOf(ReLU.class, model.nodes().get(j).layer());
                    assertInstanceOf(BatchNorm.class, model.nodes().get(fused[j]).layer());
                }
            }
            assertTrue(pairs >= 2, "pairs: " + pairs);
        }
    }

    private static void check(Function<CpuBackend, Model> make, float[] images, Shape out) {
        for (int threads : new int[] {1, 3}) {
            Map<String, float[]> fused = run(make, threads, true, images, out);
            Map<String, float[]> unfused = run(make, threads, false, images, out);
            unfused.forEach((name, v) -> assertArrayEquals(v, fused.get(name), threads + " threads: " + name));
        }
    }

    private static Map<String, float[]> run(Function<CpuBackend, Model> make, int threads, boolean fuse,
            float[] images, Shape out) {
        float[] dy = new Rand(5).uniform(out.size(), -1, 1);
        try (CpuBackend cpu = new CpuBackend(threads); Model model = make.apply(cpu);
                Workspace ws = new Workspace(model, false, fuse); Workspace eval = new Workspace(model, true, fuse);
                Tensor x = cpu.upload(images, Shape.of(13, 1, 28, 28));
                Tensor dOutput = cpu.upload(dy, out)) {
            Map<String, float[]> result = new LinkedHashMap<>();
            result.put("evaluation outputs", eval.forward(x, Pass.EVAL).toArray());
            result.put("training outputs", ws.forward(x, Pass.train(7)).toArray());
            model.zeroGrad();
            ws.backward(dOutput);
            for (Parameter p : model.parameters()) {
                result.put(p.name(), p.grad().toArray());
            }
            for (Buffer b : model.buffers()) {
                result.put(b.name(), b.value().toArray());
            }
            return result;
        }
    }
}
