package dev.receptive.onnx;

import dev.receptive.onnx.proto.Onnx.AttributeProto;
import dev.receptive.onnx.proto.Onnx.GraphProto;
import dev.receptive.onnx.proto.Onnx.ModelProto;
import dev.receptive.onnx.proto.Onnx.NodeProto;
import dev.receptive.onnx.proto.Onnx.OperatorSetIdProto;
import dev.receptive.onnx.proto.Onnx.TensorProto;
import dev.receptive.onnx.proto.Onnx.TensorShapeProto;
import dev.receptive.onnx.proto.Onnx.TypeProto;
import dev.receptive.onnx.proto.Onnx.ValueInfoProto;
import java.util.List;
import java.util.Random;

/** ONNX graphs written by hand for the import's tests, with the generated protobuf builders. */
final class OnnxGraphs {
    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("test");
    private final Random random = new Random(5);
    private int opset = 17;

    /** A graph whose input "x" is (N, dims...). */
    OnnxGraphs(int... dims) {
        graph.addInput(value("x", dims));
    }

    /** Adds a node named {@code name} writing the value {@code name}. */
    OnnxGraphs node(String op, String name, List<String> inputs, AttributeProto... attributes) {
        graph.addNode(NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addOutput(name)
                .addAllAttribute(List.of(attributes)));
        return this;
    }

    /** Adds a node with several outputs. */
    OnnxGraphs node(String op, String name, List<String> inputs, List<String> outputs, AttributeProto... attributes) {
        graph.addNode(NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addAllOutput(outputs)
                .addAllAttribute(List.of(attributes)));
        return this;
    }

    /** A float initializer of uniform values in [lo, hi), drawn from a fixed seed. */
    OnnxGraphs weights(String name, float lo, float hi, int... dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + (hi - lo) * random.nextFloat();
        }
        graph.addInitializer(OnnxTensors.floats(name, dims, v));
        return this;
    }

    /** A one-dimensional int64 initializer. */
    OnnxGraphs longs(String name, long... values) {
        graph.addInitializer(OnnxTensors.longs(name, values));
        return this;
    }

    OnnxGraphs initializer(TensorProto t) {
        graph.addInitializer(t);
        return this;
    }

    OnnxGraphs output(String name) {
        graph.addOutput(ValueInfoProto.newBuilder().setName(name));
        return this;
    }

    OnnxGraphs opset(int opset) {
        this.opset = opset;
        return this;
    }

    ModelProto model() {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(graph).build();
    }

    byte[] bytes() {
        return model().toByteArray();
    }

    static ValueInfoProto value(String name, int... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
        for (int d : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(OnnxTensors.FLOAT).setShape(shape))).build();
    }

    static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto string(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(com.google.protobuf.ByteString.copyFromUtf8(value)).build();
    }

    static AttributeProto real(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }
}
