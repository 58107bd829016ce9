package dev.receptive.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.nn.Model;
import dev.receptive.nn.Parameter;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Workspace;
import dev.receptive.nn.loss.Loss;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import dev.receptive.testing.TestBackends;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The zoo's networks: their shapes, names and sizes, and a training step through each. */
class ZooTest {
    private final Backend backend = TestBackends.cpu();

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void resNetsHaveTheDesignsDepthAndNames() {
        // Parameters of ResNet-(6n+2) at width 16 on one input channel, counted by hand:
        // stem 16·9 + 32; first blocks: 16→16 2304 + 32 + 2304 + 32, 16→32 stride 2 4608 + 64 + 9216 + 64
        // + projection 512 + 64, 32→64 stride 2 18432 + 128 + 36864 + 128 + 2048 + 128; fc 64·10 + 10:
        // 77,754. Each further block per stage adds 4,672 + 18,560 + 73,984 = 97,216.
        long[] expected = {77_754L, 174_970L, 272_186L};
        String[] names = {"resnet8", "resnet14", "resnet20"};
        for (int i = 0; i < names.length; i++) {
            try (Model m = Zoo.build(names[i], backend, 1)) {
                assertEquals(Shape.of(10), m.outputShape());
                assertEquals(expected[i], m.parameterCount(), names[i]);
                int convs = (int) m.parameters().stream().filter(p -> p.name().endsWith("conv1.weight")
                        || p.name().endsWith("conv2.weight")).count();
                assertEquals(2 * 3 * (i + 1), convs, names[i] + " 3×3 convolutions in blocks");
            }
        }
        try (Model m = Zoo.build("ResNet8", backend, 1)) {
            List<String> some = m.parameters().stream().map(Parameter::name).toList();
            assertTrue(some.containsAll(List.of("stem.conv.weight", "stem.bn.weight", "layer1.0.conv1.weight",
                    "layer2.0.shortcut.0.weight", "layer2.0.shortcut.1.bias", "layer3.0.bn2.weight", "fc.weight",
                    "fc.bias")), some.toString());
            assertEquals(Shape.of(64, 7, 7), m.nodes().stream().filter(n -> n.name().equals("layer3.0.relu2")).findFirst()
                    .orElseThrow().outputShape());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Zoo.build("vgg", backend, 1));
        assertTrue(e.getMessage().contains("known: seednet, resnet8, resnet14, resnet20"), e.getMessage());
    }

    @Test
    void aGraphsSummaryStaysAlignedWithLongNamesAndInputs() {
        // "layer2.0.shortcut.1 (BatchNorm2d)" and "layer2.0.bn2, layer2.0.shortcut.1" are longer
        // than a chain's columns: every row's parameter count must still end in the same column.
        try (Model m = Zoo.build("resnet8", backend, 1)) {
            String[] lines = m.summary().split("\\R");
            int end = lines[0].length();
            for (int i = 1; i < lines.length - 1; i++) {
                assertEquals(end, lines[i].length(), "line " + i + ": " + lines[i]);
            }
            assertTrue(lines[lines.length - 1].equals("Total params: 77,754"), lines[lines.length - 1]);
        }
    }

    @Test
    void aResNetTrainingStepGivesEveryParameterAGradient() {
        try (Model m = Zoo.build("resnet8", backend, 2); Loss loss = Loss.softmaxCrossEntropy();
                Workspace ws = m.newWorkspace();
                Tensor x = backend.upload(new Rand(3).uniform(4 * 784, -1, 1), Shape.of(4, 1, 28, 28));
                Tensor y = backend.upload(new float[] {1, 2, 3, 4}, Shape.of(4))) {
            m.zeroGrad();
            loss.compute(ws.forward(x, Pass.train(0)), y);
            ws.backward(loss.gradient());
            for (Parameter p : m.parameters()) {
                float[] g = p.grad().toArray();
                double norm = 0;
                for (float v : g) {
                    assertTrue(Float.isFinite(v), p.name());
                    norm += v * v;
                }
                assertTrue(norm > 0, p.name() + " has a gradient");
            }
        }
    }
}
