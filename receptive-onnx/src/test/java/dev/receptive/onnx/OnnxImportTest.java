package dev.receptive.onnx;

import static dev.receptive.onnx.OnnxGraphs.integer;
import static dev.receptive.onnx.OnnxGraphs.ints;
import static dev.receptive.onnx.OnnxGraphs.real;
import static dev.receptive.onnx.OnnxGraphs.string;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.receptive.backend.Backend;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.Node;
import dev.receptive.onnx.proto.Onnx.AttributeProto;
import dev.receptive.onnx.proto.Onnx.TensorProto;
import dev.receptive.testing.Close;
import dev.receptive.testing.TestBackends;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Import of hand-written graphs: what Receptive maps (checked against ONNX Runtime running the
 * same file) and what it refuses, with the op, attribute or value named.
 */
class OnnxImportTest {
    private static final Backend CPU = TestBackends.cpu(2);

    @AfterAll
    static void close() {
        CPU.close();
    }

    /**
     * Every mapping that the exporters' files leave out: a Pad folded into a Conv, auto_pad
     * SAME_UPPER, ceil_mode where it rounds nothing, padded average pooling counting its pads, a
     * softmax along the channels of (C, 1, 1) items, batch norm on flat items, Dropout with its
     * ratio and training_mode inputs, Identity, Gemm with an untransposed B and a (1, U) bias, and
     * a MatMul whose bias is added from the left.
     */
    static OnnxGraphs everyMapping() {
        return new OnnxGraphs(3, 8, 8)
                .longs("pads", 0, 0, 1, 1, 0, 0, 1, 1)
                .node("Pad", "pad", List.of("x", "pads"), string("mode", "constant"))
                .weights("w1", -0.5f, 0.5f, 4, 3, 3, 3).weights("b1", -0.1f, 0.1f, 4)
                .node("Conv", "conv1", List.of("pad", "w1", "b1"), ints("kernel_shape", 3, 3))
                .weights("w2", -0.5f, 0.5f, 4, 3, 3, 3)
                .node("Conv", "conv2", List.of("x", "w2"), string("auto_pad", "SAME_UPPER"))
                .node("Add", "sum", List.of("conv1", "conv2"))
                .node("Relu", "relu", List.of("sum"))
                .node("MaxPool", "max", List.of("relu"), ints("kernel_shape", 2, 2), ints("strides", 2, 2),
                        integer("ceil_mode", 1))
                .node("AveragePool", "avg", List.of("max"), ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1),
                        integer("count_include_pad", 1))
                .node("Concat", "cat", List.of("max", "avg", "max"), integer("axis", 1))
                .node("GlobalAveragePool", "gap", List.of("cat"))
                .node("Softmax", "soft", List.of("gap"), integer("axis", 1))
                .node("Flatten", "flat", List.of("soft"))
                .weights("scale", 0.5f, 1.5f, 12).weights("shift", -0.2f, 0.2f, 12)
                .weights("mean", 0.05f, 0.1f, 12).weights("var", 0.001f, 0.002f, 12)
                .node("BatchNormalization", "bn", List.of("flat", "scale", "shift", "mean", "var"),
                        real("epsilon", 1e-5f))
                .weights("ratio", 0.3f, 0.3f)
                .initializer(TensorProto.newBuilder().setName("training").setDataType(TensorProto.DataType.BOOL_VALUE)
                        .setRawData(ByteString.copyFrom(new byte[] {0})).build())
                .node("Dropout", "drop", List.of("bn", "ratio", "training"), List.of("drop", "mask"))
                .node("Identity", "same", List.of("drop"))
                .weights("B", -0.5f, 0.5f, 12, 5).weights("C", -0.1f, 0.1f, 1, 5)
                .node("Gemm", "gemm", List.of("same", "B", "C"))
                .weights("W", -0.5f, 0.5f, 5, 4).weights("bias", -0.1f, 0.1f, 4)
                .node("MatMul", "mm", List.of("gemm", "W"))
                .node("Add", "out", List.of("bias", "mm"))
                .output("out");
    }

    /** fp32 sums in other orders, of outputs of size ≈ 3: 1e-6 is some 10 roundings. */
    @Test
    void everyMappingComputesWhatOnnxRuntimeComputes() throws Exception {
        byte[] onnx = everyMapping().bytes();
        ModelDescription model = OnnxFile.read(onnx, "every.onnx");
        assertEquals("Conv2d Conv2d Add ReLU MaxPool2d AvgPool2d Concat GlobalAvgPool2d Softmax Flatten BatchNorm1d"
                + " Dropout Dense Dense", model.nodes().stream().map(Node::type).collect(Collectors.joining(" ")));
        float[] x = new float[5 * 3 * 8 * 8];
        Random random = new Random(9);
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat() * 2 - 1;
        }
        float[] expected = OnnxRuntimeTest.run(onnx, x, new int[] {3, 8, 8});
        try (Model m = model.place(CPU)) {
            Close.assertClose("import against ONNX Runtime", expected, m.predictor().outputs(x), 1e-6, 1e-6);
        }
        assertTrue(OnnxRuntimeTest.maxAbs(expected) > 0.5, "the outputs are not all near zero");
    }

    @Test
    void unsupportedOpsAreListedWithTheirNodes() {
        OnnxGraphs g = new OnnxGraphs(3, 4, 4)
                .node("LeakyRelu", "act", List.of("x"))
                .node("ReduceMean", "pool", List.of("act"), ints("axes", 2, 3))
                .node("LeakyRelu", "act2", List.of("pool"))
                .output("act2");
        String m = refused(g);
        assertTrue(m.contains("3 nodes of op types LeakyRelu, ReduceMean"), m);
        assertTrue(m.contains("LeakyRelu (LeakyRelu node 'act'), ReduceMean (ReduceMean node 'pool'), LeakyRelu"), m);
        assertTrue(m.contains("The import reads Conv, BatchNormalization"), m);
    }

    @Test
    void attributesReceptiveCannotExpressAreNamed() {
        assertRefused(pool("MaxPool", 7, integer("ceil_mode", 1)), "ceil_mode = 1 adds a last, partial window");
        assertRefused(pool("AveragePool", 8, ints("pads", 1, 1, 1, 1)), "count_include_pad = 0 with padding");
        assertRefused(pool("MaxPool", 8, ints("pads", 0, 0, 1, 1)), "is asymmetric");
        assertRefused(pool("MaxPool", 8, ints("dilations", 2, 2)), "attribute dilations = [2, 2]");
        assertRefused(conv(ints("kernel_shape", 2, 2), string("auto_pad", "SAME_UPPER")),
                "auto_pad = SAME_UPPER pads 1 rows or columns");
        assertRefused(conv(ints("kernel_shape", 2, 2), integer("group", 2)), "group = 2");
        assertRefused(conv(ints("kernel_shape", 2, 2), ints("pads", 0, 1, 1, 0)), "is asymmetric");
        assertRefused(conv(ints("kernel_shape", 2, 2), ints("strides", 1)), "must give a height and a width");
        assertRefused(conv(ints("kernel_shape", 2, 2), real("alpha", 1)), "attribute 'alpha' is not one of Conv's");
        assertRefused(conv(integer("kernel_shape", 2)), "attribute kernel_shape is of type INT, not INTS");
        assertRefused(new OnnxGraphs(2, 4, 4).node("Softmax", "s", List.of("x"), integer("axis", 1)).output("s"),
                "Receptive's Softmax normalizes each whole item");
        assertRefused(new OnnxGraphs(2, 4, 4).longs("pads", 0, 0, 1, 1, 0, 0, 1, 1)
                .node("Pad", "pad", List.of("x", "pads"))
                .node("MaxPool", "max", List.of("pad"), ints("kernel_shape", 2, 2)).output("max"),
                "reads the zeros of Pad node 'pad', which the import cannot give a max-pool");
        assertRefused(new OnnxGraphs(2, 4, 4).weights("w", 0, 1, 2, 2, 3, 3)
                .node("Conv", "c", List.of("x", "w"))
                .node("BatchNormalization", "bn", List.of("c", "w", "w", "w", "w"),
                        integer("training_mode", 1)).output("bn"), "training_mode = 1");
        assertRefused(new OnnxGraphs(6).weights("b", 0, 1, 6).node("Add", "a", List.of("x", "b")).output("a"),
                "only as the bias of the MatMul or Gemm");
        assertRefused(everyMapping().opset(11), "uses opset 11; this reader takes opsets 13 to 22");
    }

    /** A 2x2 pool of a (2, n, n) input. */
    private static OnnxGraphs pool(String op, int n, AttributeProto... more) {
        List<AttributeProto> attributes = new ArrayList<>(List.of(
                ints("kernel_shape", 2, 2), ints("strides", 2, 2)));
        attributes.addAll(List.of(more));
        return new OnnxGraphs(2, n, n).node(op, "pool", List.of("x"),
                attributes.toArray(new AttributeProto[0])).output("pool");
    }

    /** A 2x2 conv of a (2, 5, 5) input into 3 channels. */
    private static OnnxGraphs conv(AttributeProto... attributes) {
        return new OnnxGraphs(2, 5, 5).weights("w", -1, 1, 3, 2, 2, 2).node("Conv", "conv", List.of("x", "w"),
                attributes).output("conv");
    }

    @Test
    void malformedFilesAreClearErrors() {
        byte[] good = everyMapping().bytes();
        assertRefused(Arrays.copyOf(good, good.length / 2), "not an ONNX model (its protobuf message is damaged or"
                + " truncated");
        byte[] garbage = new byte[64];
        new Random(1).nextBytes(garbage);
        assertRefused(garbage, "not an ONNX model");
        assertRefused(new byte[0], "imports no opset of the default ONNX domain");
        assertRefused(tensor(t -> t.setDataType(TensorProto.DataType.FLOAT16_VALUE)), "has data type FLOAT16 (10)");
        assertRefused(tensor(t -> t.clearDims().addDims(1 << 20).addDims(1 << 20).addDims(1 << 20)),
                "more than 2^31 values");
        assertRefused(tensor(t -> t.clearDims().addDims(-1)), "has a negative dimension");
        assertRefused(tensor(t -> t.clearDims().addDims(1000).addDims(1000)),
                "declares 1000000 values of 4 bytes but holds 96 bytes of raw_data");
        assertRefused(tensor(t -> t.setDataLocation(TensorProto.DataLocation.EXTERNAL)), "keeps its values in an"
                + " external file");
        assertRefused(new OnnxGraphs(3).node("Relu", "a", List.of("b")).node("Relu", "b", List.of("a"))
                .node("Relu", "c", List.of("x")).output("c"), "the nodes Relu node 'a', Relu node 'b' form a cycle");
        assertRefused(new OnnxGraphs(3).node("Relu", "a", List.of("y")).output("a"),
                "Relu node 'a' reads 'y', which no node, initializer or input defines");
        assertRefused(new OnnxGraphs(3).node("Relu", "a", List.of("x")).node("Relu", "a", List.of("x")).output("a"),
                "the value 'a' is written by Relu node 'a' and also by Relu node 'a'");
        assertRefused(new OnnxGraphs(3).node("Relu", "a", List.of("x")).output("a").output("x"), "has 2 graph outputs");
        assertRefused(new OnnxGraphs(3).node("Relu", "a", List.of("x")).output("x"), "is the input itself");
        assertRefused(new OnnxGraphs(3).node("Relu", "a", List.of("x")).output("b"), "'b' is written by no node");
        assertRefused(new OnnxGraphs(3).weights("w", 0, 1, 3).node("Identity", "a", List.of("w")).output("a"),
                "is a constant");
    }

    /** The every-mapping graph with its conv weight changed by {@code edit}. */
    private static OnnxGraphs tensor(UnaryOperator<TensorProto.Builder> edit) {
        OnnxGraphs g = new OnnxGraphs(2, 3, 3);
        float[] w = new float[24];
        Arrays.fill(w, 0.5f);
        return g.initializer(edit.apply(OnnxTensors.floats("w", new int[] {3, 2, 2, 2}, w).toBuilder()).build())
                .node("Conv", "conv", List.of("x", "w")).output("conv");
    }

    private static void assertRefused(OnnxGraphs g, String part) {
        assertRefused(g.bytes(), part);
    }

    private static void assertRefused(byte[] bytes, String part) {
        IOException e = assertThrows(IOException.class, () -> OnnxFile.read(bytes, "bad.onnx"));
        assertTrue(e.getMessage().startsWith("bad.onnx: "), e.getMessage());
        assertTrue(e.getMessage().contains(part), () -> "expected '" + part + "' in: " + e.getMessage());
    }

    private static String refused(OnnxGraphs g) {
        return assertThrows(IOException.class, () -> OnnxFile.read(g.bytes(), "bad.onnx")).getMessage();
    }
}
