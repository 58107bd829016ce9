package dev.receptive.onnx;

import com.google.gson.Gson;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.AvgPool2d;
import dev.receptive.nn.BatchNorm;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Dropout;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.GlobalAvgPool2d;
import dev.receptive.nn.HeightWidth;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Layer;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.Node;
import dev.receptive.nn.Pool2d;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sigmoid;
import dev.receptive.nn.Softmax;
import dev.receptive.nn.Tanh;
import dev.receptive.onnx.proto.Onnx.AttributeProto;
import dev.receptive.onnx.proto.Onnx.GraphProto;
import dev.receptive.onnx.proto.Onnx.ModelProto;
import dev.receptive.onnx.proto.Onnx.NodeProto;
import dev.receptive.onnx.proto.Onnx.OperatorSetIdProto;
import dev.receptive.onnx.proto.Onnx.StringStringEntryProto;
import dev.receptive.onnx.proto.Onnx.TensorShapeProto;
import dev.receptive.onnx.proto.Onnx.TypeProto;
import dev.receptive.onnx.proto.Onnx.ValueInfoProto;
import dev.receptive.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A Receptive model as an ONNX graph of opset {@value #OPSET}, node by node: each node's output
 * is a value of the node's name, each parameter and buffer an initializer of its state-dict name
 * (so the names stay PyTorch's), and the input is "input" with a batch dimension "N". See
 * docs/model-format.md, "ONNX", for what maps to what.
 */
final class OnnxExporter {
    /** The opset the graph uses: ONNX 1.12's, which PyTorch 1.13 and every current runtime read. */
    static final int OPSET = 17;
    /** The IR version of opset 17 (ONNX 1.12). */
    static final int IR_VERSION = 8;
    static final String BATCH = "N";

    private final ModelDescription model;
    private final Map<String, HostTensor> state;
    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("receptive");

    private OnnxExporter(ModelDescription model) {
        this.model = model;
        this.state = model.state();
    }

    /**
     * The model as ONNX.
     *
     * @throws IllegalArgumentException when the description holds no weights or a node has no ONNX form
     *     (registered custom layers), naming it
     */
    static ModelProto export(ModelDescription model) {
        if (!model.hasState()) {
            throw new IllegalArgumentException("ONNX export: the description holds no weights (they would be drawn from"
                    + " the seed); place it on a backend first");
        }
        List<String> refused = new ArrayList<>();
        for (Node n : model.nodes()) {
            if (n.layer() != null && !exportable(n.layer())) {
                refused.add(n.name() + " (" + n.type() + ")");
            }
        }
        if (!refused.isEmpty()) {
            throw new IllegalArgumentException("ONNX export: " + (refused.size() == 1 ? "layer " : "layers ")
                    + String.join(", ", refused) + (refused.size() == 1 ? " has" : " have")
                    + " no ONNX form; exportable layers are Conv2d, MaxPool2d,"
                    + " AvgPool2d, GlobalAvgPool2d, Dense, Flatten, Dropout, BatchNorm2d, BatchNorm1d, ReLU, Tanh,"
                    + " Sigmoid, Softmax, and the merges Add and Concat");
        }
        OnnxExporter e = new OnnxExporter(model);
        e.graph.addInput(valueInfo(Model.INPUT, model.inputShape()));
        for (Node n : model.nodes()) {
            e.node(n);
        }
        List<Node> nodes = model.nodes();
        e.graph.addOutput(valueInfo(nodes.get(nodes.size() - 1).name(), model.outputShape()));
        ModelProto.Builder m = ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("Receptive")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(e.graph);
        ModelInfo info = model.info();
        if (info.hasNormalization()) {
            m.addMetadataProps(entry(ModelFile.NORMALIZATION, String.format(Locale.ROOT, "%s,%s",
                    info.normalization().mean(), info.normalization().std())));
        }
        if (!info.classNames().isEmpty()) {
            m.addMetadataProps(entry(ModelFile.CLASSES, new Gson().toJson(info.classNames())));
        }
        return m.build();
    }

    /** The built-in layers; a registered custom layer of another class has no ONNX form. */
    private static boolean exportable(Layer l) {
        return l instanceof Conv2d || l instanceof Pool2d || l instanceof GlobalAvgPool2d || l instanceof Dense
                || l instanceof Flatten || l instanceof Dropout || l instanceof BatchNorm || l instanceof ReLU
                || l instanceof Tanh || l instanceof Sigmoid || l instanceof Softmax;
    }

    private void node(Node n) {
        String y = n.name();
        List<String> xs = n.inputs();
        Layer layer = n.layer();
        if (layer == null) {
            if (n.type().equals("Concat")) {
                add(op("Concat", y, xs).addAttribute(integer("axis", 1)));
            } else {
                // Receptive's Add sums left to right, ((x0 + x1) + x2) + ..., and so does this chain.
                String sum = xs.get(0);
                for (int k = 1; k < xs.size(); k++) {
                    String out = k == xs.size() - 1 ? y : y + "/add" + k;
                    add(op("Add", out, List.of(sum, xs.get(k))));
                    sum = out;
                }
            }
            return;
        }
        String x = xs.get(0);
        if (layer instanceof Conv2d c) {
            Conv2d.Settings s = c.settings();
            add(op("Conv", y, params(x, y, s.bias() ? List.of("weight", "bias") : List.of("weight")))
                    .addAttribute(ints("kernel_shape", s.kernel().height(), s.kernel().width()))
                    .addAttribute(ints("strides", s.stride().height(), s.stride().width()))
                    .addAttribute(pads(s.padding()))
                    .addAttribute(ints("dilations", s.dilation().height(), s.dilation().width()))
                    .addAttribute(integer("group", 1)));
        } else if (layer instanceof Pool2d p) {
            Pool2d.Settings s = p.settings();
            NodeProto.Builder pool = op(layer instanceof MaxPool2d ? "MaxPool" : "AveragePool", y, List.of(x))
                    .addAttribute(ints("kernel_shape", s.window().height(), s.window().width()))
                    .addAttribute(ints("strides", s.stride().height(), s.stride().width()))
                    .addAttribute(pads(s.padding()))
                    .addAttribute(integer("ceil_mode", 0));
            if (layer instanceof AvgPool2d) {
                // Receptive divides by the whole window, padding included, as PyTorch does by default.
                pool.addAttribute(integer("count_include_pad", 1));
            }
            add(pool);
        } else if (layer instanceof GlobalAvgPool2d) {
            add(op("GlobalAveragePool", y, List.of(x)));
        } else if (layer instanceof Dense d) {
            add(op("Gemm", y, params(x, y, d.settings().bias() ? List.of("weight", "bias") : List.of("weight")))
                    .addAttribute(integer("transB", 1)));
        } else if (layer instanceof Flatten) {
            add(op("Flatten", y, List.of(x)).addAttribute(integer("axis", 1)));
        } else if (layer instanceof Dropout d) {
            String ratio = y + ".ratio";
            graph.addInitializer(OnnxTensors.floats(ratio, new int[0], new float[] {d.settings().p()}));
            add(op("Dropout", y, List.of(x, ratio)));
        } else if (layer instanceof BatchNorm b) {
            BatchNorm.Settings s = b.settings();
            // ONNX's momentum weighs the running statistic, PyTorch's and Receptive's the batch's.
            add(op("BatchNormalization", y, params(x, y, List.of("weight", "bias", "running_mean", "running_var")))
                    .addAttribute(floats("epsilon", (float) s.eps()))
                    .addAttribute(floats("momentum", (float) (1 - s.momentum())))
                    .addAttribute(integer("training_mode", 0)));
        } else if (layer instanceof ReLU) {
            add(op("Relu", y, List.of(x)));
        } else if (layer instanceof Tanh) {
            add(op("Tanh", y, List.of(x)));
        } else if (layer instanceof Sigmoid) {
            add(op("Sigmoid", y, List.of(x)));
        } else if (layer instanceof Softmax) {
            softmax(n, x, y);
        } else {
            throw new IllegalStateException("ONNX export: no mapping for layer " + n);
        }
    }

    /**
     * Receptive's softmax normalizes all C·H·W values of an item together; ONNX's Softmax (opset
     * 13 on) normalizes along one axis. On flat items they agree; otherwise the items are
     * flattened, normalized and given their shape back, which the importer reads as one softmax.
     */
    private void softmax(Node n, String x, String y) {
        Shape item = n.inputShapes().get(0);
        if (item.rank() == 1) {
            add(op("Softmax", y, List.of(x)).addAttribute(integer("axis", 1)));
            return;
        }
        String flat = y + "/flatten";
        String soft = y + "/softmax";
        String shape = y + ".shape";
        long[] dims = new long[item.rank() + 1]; // 0 keeps the batch dimension
        for (int i = 0; i < item.rank(); i++) {
            dims[i + 1] = item.dim(i);
        }
        graph.addInitializer(OnnxTensors.longs(shape, dims));
        add(op("Flatten", flat, List.of(x)).addAttribute(integer("axis", 1)));
        add(op("Softmax", soft, List.of(flat)).addAttribute(integer("axis", 1)));
        add(op("Reshape", y, List.of(soft, shape)));
    }

    /** The node's input followed by its parameters' initializers, added to the graph in that order. */
    private List<String> params(String x, String node, List<String> locals) {
        List<String> inputs = new ArrayList<>();
        inputs.add(x);
        for (String local : locals) {
            String name = node + "." + local;
            HostTensor t = state.get(name);
            graph.addInitializer(OnnxTensors.floats(name, t.shape().dims(), t.data()));
            inputs.add(name);
        }
        return inputs;
    }

    private void add(NodeProto.Builder node) {
        graph.addNode(node);
    }

    /** A node of the default domain named after its output. */
    private static NodeProto.Builder op(String type, String output, List<String> inputs) {
        return NodeProto.newBuilder().setOpType(type).setName(output).addAllInput(inputs).addOutput(output);
    }

    /** ONNX pads are [top, left, bottom, right]; Receptive pads both sides alike. */
    private static AttributeProto pads(HeightWidth p) {
        return ints("pads", p.height(), p.width(), p.height(), p.width());
    }

    private static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private static AttributeProto floats(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** A float tensor value of shape (N, item...). */
    private static ValueInfoProto valueInfo(String name, Shape item) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(BATCH));
        for (int d : item.dims()) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(OnnxTensors.FLOAT).setShape(shape))).build();
    }
}
