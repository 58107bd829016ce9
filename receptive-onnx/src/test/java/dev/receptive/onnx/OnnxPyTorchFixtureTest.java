package dev.receptive.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.io.ModelFile;
import dev.receptive.io.Safetensors;
import dev.receptive.io.TensorData;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.Node;
import dev.receptive.tensor.Shape;
import dev.receptive.testing.Close;
import dev.receptive.testing.TestBackends;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ONNX files written by PyTorch 1.13's own exporter (test-data/onnx/, made by its
 * make_fixtures.py), imported and run by Receptive against the outputs PyTorch saved beside them.
 */
class OnnxPyTorchFixtureTest {
    static final Path DIR = Path.of("test-data", "onnx");
    private static final Backend CPU = TestBackends.cpu();

    @AfterAll
    static void close() {
        CPU.close();
    }

    /**
     * Both sides compute in fp32 with sums in other orders (PyTorch's im2col GEMM, Receptive's
     * kernels), and the resnet_folded file holds weights PyTorch multiplied out of batch norm,
     * so they agree to a few fp32 roundings of outputs of size ≈ 0.3: 1e-6 is 30 of them.
     */
    @ParameterizedTest
    @ValueSource(strings = {"seednet", "resnet", "resnet_folded", "concat"})
    void importedModelComputesWhatPyTorchComputed(String name) throws Exception {
        ModelFile.Contents contents = OnnxFile.read(DIR.resolve(name + ".onnx"));
        Map<String, TensorData> saved = Safetensors.read(DIR.resolve(name + ".outputs.safetensors")).tensors();
        TensorData x = saved.get("x");
        TensorData y = saved.get("y");
        assertEquals(y.shape()[1], contents.model().outputShape().dim(0));
        try (Model model = contents.model().place(CPU)) {
            float[] out = model.predictor().outputs(x.data());
            Close.assertClose(name + " outputs against PyTorch's", y.data(), out, 1e-6, 0);
        }
        assertFalse(contents.model().info().hasNormalization(), "PyTorch writes no Receptive normalization");
        assertEquals("pytorch 1.13.0", contents.metadata().get(OnnxFile.PRODUCER));
        assertEquals("17", contents.metadata().get(OnnxFile.OPSET));
    }

    /** Batch norm stays batch norm (its running statistics fine-tune), and nodes take PyTorch's module names. */
    @Test
    void resnetKeepsItsBatchNormAndPyTorchNames() throws Exception {
        ModelDescription model = OnnxFile.read(DIR.resolve("resnet.onnx")).model();
        List<String> norms = model.nodes().stream().filter(n -> n.type().equals("BatchNorm2d")).map(Node::name)
                .collect(Collectors.toList());
        assertEquals(List.of("bn1", "layer1.bn1", "layer1.bn2", "layer2.bn1", "layer2.bn2", "layer2.shortcut.1"), norms);
        assertTrue(model.state().containsKey("layer2.shortcut.0.weight"));
        assertTrue(model.state().containsKey("fc.bias"));
        assertEquals(2, model.nodes().stream().filter(n -> n.type().equals("Add")).count());
        // x.view(x.size(0), -1): the shape subgraph became one Flatten.
        assertEquals(1, model.nodes().stream().filter(n -> n.type().equals("Flatten")).count());
    }

    /** PyTorch's Pad + AveragePool became padded average pooling, and x @ W + b a dense layer with its bias. */
    @Test
    void concatNetFoldsPadsAndTheMatMulBias() throws Exception {
        ModelDescription model = OnnxFile.read(DIR.resolve("concat.onnx")).model();
        String types = model.nodes().stream().map(Node::type).collect(Collectors.joining(" "));
        assertEquals("Conv2d ReLU Conv2d Conv2d Add Concat AvgPool2d AvgPool2d Tanh Sigmoid MaxPool2d Flatten Dense"
                + " Softmax", types);
        // Named after the MatMul node ("/MatMul"): its weight "w" is no module's.
        assertEquals(Shape.of(10, 108), model.state().get("MatMul.weight").shape());
        assertEquals(Shape.of(10), model.state().get("MatMul.bias").shape());
    }
}
