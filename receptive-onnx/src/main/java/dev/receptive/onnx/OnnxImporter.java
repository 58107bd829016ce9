package dev.receptive.onnx;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import dev.receptive.data.Normalization;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Add;
import dev.receptive.nn.AvgPool2d;
import dev.receptive.nn.BatchNorm;
import dev.receptive.nn.BatchNorm1d;
import dev.receptive.nn.BatchNorm2d;
import dev.receptive.nn.Concat;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Dropout;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.GlobalAvgPool2d;
import dev.receptive.nn.Graph;
import dev.receptive.nn.HeightWidth;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Layer;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.Pool2d;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sigmoid;
import dev.receptive.nn.Softmax;
import dev.receptive.nn.Tanh;
import dev.receptive.nn.init.Init;
import dev.receptive.onnx.OnnxTensors.Constant;
import dev.receptive.onnx.proto.Onnx.AttributeProto;
import dev.receptive.onnx.proto.Onnx.GraphProto;
import dev.receptive.onnx.proto.Onnx.ModelProto;
import dev.receptive.onnx.proto.Onnx.NodeProto;
import dev.receptive.onnx.proto.Onnx.OperatorSetIdProto;
import dev.receptive.onnx.proto.Onnx.StringStringEntryProto;
import dev.receptive.onnx.proto.Onnx.TensorProto;
import dev.receptive.onnx.proto.Onnx.TensorShapeProto;
import dev.receptive.onnx.proto.Onnx.TypeProto;
import dev.receptive.onnx.proto.Onnx.ValueInfoProto;
import dev.receptive.tensor.Shape;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * An ONNX graph of a CNN, as PyTorch's exporter writes it, as a Receptive graph model with its
 * weights. The nodes are visited in dependency order; each value is an activation (a Receptive
 * node's output, or the model's input), a constant (initializers, Constant nodes), a shape
 * vector known up to the batch size (what Shape, Gather, Unsqueeze and Concat compute for a
 * Reshape), or a zero-padded activation (a Pad, which the next Conv or AveragePool absorbs). Ops,
 * attributes and values that Receptive cannot express are refused naming them; nothing is built
 * until the whole graph has been read. docs/model-format.md, "ONNX", lists the mapping.
 */
final class OnnxImporter {
    /** The ops the import reads, in the default domain. */
    static final List<String> OPS = List.of("Conv", "BatchNormalization", "Relu", "Sigmoid", "Tanh", "MaxPool",
            "AveragePool", "GlobalAveragePool", "Gemm", "MatMul", "Add", "Flatten", "Reshape", "Concat", "Softmax",
            "Dropout", "Identity", "Constant", "Shape", "Gather", "Unsqueeze", "Pad");
    /** Opset 13 gave Softmax its one-axis meaning and moved Unsqueeze's and Dropout's arguments to inputs. */
    static final int MIN_OPSET = 13;
    /** The newest opset whose versions of these ops this reader knows (ONNX 1.17). */
    static final int MAX_OPSET = 22;
    /** Marks the batch dimension in a shape vector. */
    private static final long BATCH = Long.MIN_VALUE;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*");
    private static final int SHOWN = 12;

    /** What an ONNX value is while the graph is read. */
    private sealed interface Value permits Activation, Tensor, Dims, Padded {
    }

    /** A value computed per item: the output of {@code producer}, or the model's input when it is null. */
    private record Activation(Spec producer, Shape item) implements Value {
    }

    /** A constant tensor. */
    private record Tensor(Constant constant) implements Value {
    }

    /** An int64 scalar or vector known up to the batch size, which {@link #BATCH} stands for. */
    private record Dims(long[] values, boolean scalar) implements Value {
    }

    /** An activation padded with zeros: [top, left, bottom, right] rows and columns. */
    private record Padded(Activation source, int[] pads, NodeProto pad) implements Value {
    }

    /** A Receptive node in the making; named, pruned and built once the whole graph is read. */
    private static final class Spec {
        final String type;
        Supplier<Layer> layer;
        boolean merge;
        List<Activation> inputs;
        /** The weights' name without ".weight", which names the node as PyTorch named the module; or null. */
        String prefix;
        /** The ONNX node whose name names it when no prefix does. */
        NodeProto namedBy;
        final Map<String, HostTensor> state = new LinkedHashMap<>();
        String name;

        Spec(String type, NodeProto node) {
            this.type = type;
            this.namedBy = node;
        }
    }

    private final String where;
    private final Map<String, Value> values = new HashMap<>();
    private final Map<String, Integer> uses = new HashMap<>();
    private final List<Spec> specs = new ArrayList<>();
    /** The graph input's batch size when the file fixes one (-1: symbolic), which a Reshape may name literally. */
    private long batchLiteral = -1;

    private OnnxImporter(String where) {
        this.where = where;
    }

    /**
     * The model of {@code model}; {@code where} (the file) starts every message.
     *
     * @return the checked description: graph, weights, and the normalization and class names of the metadata
     * @throws OnnxFormatException naming what is malformed or not supported
     */
    static ModelDescription read(ModelProto model, String where) {
        return new OnnxImporter(where).run(model);
    }

    private ModelDescription run(ModelProto model) {
        checkOpset(model);
        if (!model.hasGraph()) {
            throw fail("holds no graph");
        }
        GraphProto g = model.getGraph();
        checkOps(g);
        if (g.getSparseInitializerCount() > 0) {
            throw fail("has sparse initializers, which this reader does not take");
        }
        for (TensorProto t : g.getInitializerList()) {
            define(t.getName(), new Tensor(OnnxTensors.read(t, where)), "initializer");
        }
        Shape input = input(g);
        for (NodeProto n : g.getNodeList()) {
            for (String in : n.getInputList()) {
                uses.merge(in, 1, Integer::sum);
            }
        }
        if (g.getOutputCount() != 1) {
            throw fail("has " + g.getOutputCount() + " graph outputs; a Receptive model has one");
        }
        String outputName = g.getOutput(0).getName();
        uses.merge(outputName, 1, Integer::sum);
        for (NodeProto n : order(g)) {
            translate(n);
        }
        Value out = values.get(outputName);
        if (out == null) {
            throw fail("the graph output '" + outputName + "' is written by no node");
        }
        if (!(out instanceof Activation a) || a.producer() == null) {
            throw fail("the graph output '" + outputName + "' is " + (out instanceof Tensor ? "a constant"
                    : out instanceof Dims ? "a shape" : out instanceof Padded ? "a Pad's output" : "the input itself")
                    + ", not computed by a layer");
        }
        return build(input, a.producer(), info(model));
    }

    // ---- the file as a whole --------------------------------------------------------------

    private void checkOpset(ModelProto model) {
        long opset = -1;
        for (OperatorSetIdProto o : model.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                opset = o.getVersion();
            }
        }
        if (opset < 0) {
            throw fail("imports no opset of the default ONNX domain (an ONNX model names its opset)");
        }
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw fail("uses opset " + opset + "; this reader takes opsets " + MIN_OPSET + " to " + MAX_OPSET
                    + " (export with opset_version=17, for example)");
        }
    }

    /** Every node's op must be one the import knows; all the others are listed at once. */
    private void checkOps(GraphProto g) {
        List<String> unknown = new ArrayList<>();
        Set<String> types = new java.util.TreeSet<>();
        for (NodeProto n : g.getNodeList()) {
            boolean standard = n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx");
            if (!standard || !OPS.contains(n.getOpType())) {
                String type = (standard ? "" : n.getDomain() + ":") + n.getOpType();
                types.add(type);
                unknown.add(type + " (" + label(n) + ")");
            }
        }
        if (!unknown.isEmpty()) {
            throw fail("not supported: " + unknown.size() + " node" + (unknown.size() == 1 ? "" : "s") + " of op type"
                    + (types.size() == 1 ? " " : "s ") + String.join(", ", types) + ": " + shown(unknown)
                    + ". The import reads " + String.join(", ", OPS));
        }
    }

    /** The one graph input that is not an initializer: a float tensor (N, dims...) of fixed item dims. */
    private Shape input(GraphProto g) {
        ValueInfoProto input = null;
        for (ValueInfoProto v : g.getInputList()) {
            if (values.containsKey(v.getName())) {
                continue; // an initializer listed as an input too, as files of IR version 3 do
            }
            if (input != null) {
                throw fail("has the graph inputs '" + input.getName() + "' and '" + v.getName()
                        + "'; a Receptive model has one");
            }
            input = v;
        }
        if (input == null) {
            throw fail("has no graph input besides its initializers");
        }
        String what = "the graph input '" + input.getName() + "'";
        TypeProto type = input.getType();
        if (!type.hasTensorType() || type.getTensorType().getElemType() != OnnxTensors.FLOAT) {
            throw fail(what + " is not a float tensor" + (type.hasTensorType() ? " (it holds "
                    + OnnxTensors.typeName(type.getTensorType().getElemType()) + ")" : ""));
        }
        TensorShapeProto shape = type.getTensorType().getShape();
        if (shape.getDimCount() < 2) {
            throw fail(what + " has " + shape.getDimCount() + " dimensions; the import takes a batch of items, (N, C, H, W)"
                    + " or (N, F)");
        }
        TensorShapeProto.Dimension batch = shape.getDim(0);
        if (batch.hasDimValue()) {
            batchLiteral = batch.getDimValue();
        }
        int[] item = new int[shape.getDimCount() - 1];
        for (int i = 0; i < item.length; i++) {
            TensorShapeProto.Dimension d = shape.getDim(i + 1);
            if (!d.hasDimValue() || d.getDimValue() < 1 || d.getDimValue() > Integer.MAX_VALUE) {
                throw fail(what + " has dimension " + (i + 1) + " = " + (d.hasDimParam() ? "'" + d.getDimParam() + "'"
                        : d.hasDimValue() ? Long.toString(d.getDimValue()) : "unknown")
                        + "; every dimension but the batch must be a fixed size");
            }
            item[i] = (int) d.getDimValue();
        }
        Shape s = shape(item, what);
        define(input.getName(), new Activation(null, s), "graph input");
        return s;
    }

    /**
     * The nodes in an order where every node comes after what it reads (the file's order where
     * it allows), or an error naming a value no one defines or the nodes of a cycle.
     */
    private List<NodeProto> order(GraphProto g) {
        List<NodeProto> nodes = g.getNodeList();
        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            NodeProto n = nodes.get(i);
            if (n.getOutputCount() == 0 || n.getOutput(0).isEmpty()) {
                throw fail(label(n) + " has no output");
            }
            for (String out : n.getOutputList()) {
                if (out.isEmpty()) {
                    continue;
                }
                Integer before = producer.put(out, i);
                if (before != null || values.containsKey(out)) {
                    throw fail("the value '" + out + "' is written by " + label(n) + " and also by "
                            + (before != null ? label(nodes.get(before)) : "an initializer or the graph input"));
                }
            }
        }
        int[] waiting = new int[nodes.size()];
        Map<String, List<Integer>> readers = new HashMap<>();
        PriorityQueue<Integer> ready = new PriorityQueue<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String in : nodes.get(i).getInputList()) {
                if (in.isEmpty() || values.containsKey(in)) {
                    continue;
                }
                if (!producer.containsKey(in)) {
                    throw fail(label(nodes.get(i)) + " reads '" + in + "', which no node, initializer or input defines");
                }
                waiting[i]++;
                readers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
            }
            if (waiting[i] == 0) {
                ready.add(i);
            }
        }
        List<NodeProto> order = new ArrayList<>();
        while (!ready.isEmpty()) {
            NodeProto n = nodes.get(ready.poll());
            order.add(n);
            for (String out : n.getOutputList()) {
                for (int r : readers.getOrDefault(out, List.of())) {
                    if (--waiting[r] == 0) {
                        ready.add(r);
                    }
                }
            }
        }
        if (order.size() < nodes.size()) {
            List<String> stuck = new ArrayList<>();
            for (int i = 0; i < nodes.size(); i++) {
                if (waiting[i] > 0) {
                    stuck.add(label(nodes.get(i)));
                }
            }
            throw fail("the nodes " + shown(stuck) + " form a cycle: each waits for another's output");
        }
        return order;
    }

    // ---- one node -------------------------------------------------------------------------

    private void translate(NodeProto n) {
        String out = n.getOutput(0);
        Value v = switch (n.getOpType()) {
            case "Constant" -> constantNode(n);
            case "Identity" -> {
                attributes(n);
                yield value(n, 0);
            }
            case "Shape" -> shapeOf(n);
            case "Gather" -> gather(n);
            case "Unsqueeze" -> unsqueeze(n);
            case "Concat" -> concat(n);
            case "Reshape" -> reshape(n);
            case "Flatten" -> flatten(n);
            case "Pad" -> pad(n);
            case "Conv" -> conv(n);
            case "MaxPool", "AveragePool" -> pool(n);
            case "GlobalAveragePool" -> {
                attributes(n);
                Activation x = image(n, 0);
                yield layer(n, "GlobalAvgPool2d", GlobalAvgPool2d::new, x, shape(new int[] {x.item().dim(0), 1, 1}, n));
            }
            case "BatchNormalization" -> batchNorm(n);
            case "Relu" -> pointwise(n, "ReLU", ReLU::new);
            case "Sigmoid" -> pointwise(n, "Sigmoid", Sigmoid::new);
            case "Tanh" -> pointwise(n, "Tanh", Tanh::new);
            case "Gemm" -> gemm(n);
            case "MatMul" -> matMul(n);
            case "Add" -> add(n);
            case "Softmax" -> softmax(n);
            case "Dropout" -> dropout(n);
            default -> throw new IllegalStateException("no translation of " + n.getOpType());
        };
        define(out, v, label(n));
    }

    private Value constantNode(NodeProto n) {
        Map<String, AttributeProto> a = attributes(n, "value", "value_float", "value_floats", "value_int", "value_ints",
                "value_string", "value_strings", "sparse_value");
        if (a.size() != 1) {
            throw fail(label(n) + " must have exactly one value attribute, has " + a.keySet());
        }
        String name = n.getOutput(0);
        Map.Entry<String, AttributeProto> e = a.entrySet().iterator().next();
        AttributeProto v = e.getValue();
        return switch (e.getKey()) {
            case "value" -> {
                expect(n, v, AttributeProto.AttributeType.TENSOR);
                yield new Tensor(OnnxTensors.read(v.getT().toBuilder().setName(name).build(), where));
            }
            case "value_float" -> {
                expect(n, v, AttributeProto.AttributeType.FLOAT);
                yield new Tensor(new Constant(name, new long[0], new float[] {v.getF()}, null));
            }
            case "value_floats" -> {
                expect(n, v, AttributeProto.AttributeType.FLOATS);
                float[] f = new float[v.getFloatsCount()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = v.getFloats(i);
                }
                yield new Tensor(new Constant(name, new long[] {f.length}, f, null));
            }
            case "value_int" -> {
                expect(n, v, AttributeProto.AttributeType.INT);
                yield new Tensor(new Constant(name, new long[0], null, new long[] {v.getI()}));
            }
            case "value_ints" -> {
                expect(n, v, AttributeProto.AttributeType.INTS);
                long[] l = v.getIntsList().stream().mapToLong(Long::longValue).toArray();
                yield new Tensor(new Constant(name, new long[] {l.length}, null, l));
            }
            default -> throw fail(label(n) + ": attribute " + e.getKey() + " is not supported (string and sparse"
                    + " constants)");
        };
    }

    /** Shape: the batch size stays symbolic, the item dims are known. */
    private Value shapeOf(NodeProto n) {
        Map<String, AttributeProto> a = attributes(n, "start", "end");
        Value v = value(n, 0);
        long[] full;
        if (v instanceof Activation x) {
            full = new long[x.item().rank() + 1];
            full[0] = BATCH;
            for (int i = 0; i < x.item().rank(); i++) {
                full[i + 1] = x.item().dim(i);
            }
        } else if (v instanceof Tensor t) {
            full = t.constant().dims().clone();
        } else {
            throw fail(label(n) + " takes the shape of " + kind(v) + "; the import follows shapes of tensors only");
        }
        int r = full.length;
        long start = clampAxis(integer(n, a, "start", 0), r);
        long end = clampAxis(integer(n, a, "end", r), r);
        return new Dims(Arrays.copyOfRange(full, (int) start, (int) Math.max(start, end)), false);
    }

    private static long clampAxis(long axis, int rank) {
        return Math.max(0, Math.min(rank, axis < 0 ? axis + rank : axis));
    }

    private Value gather(NodeProto n) {
        Map<String, AttributeProto> a = attributes(n, "axis");
        if (integer(n, a, "axis", 0) != 0) {
            throw fail(label(n) + ": attribute axis = " + integer(n, a, "axis", 0) + "; the import gathers from shape"
                    + " vectors only (axis 0)");
        }
        Dims data = dims(n, 0);
        Dims indices = dims(n, 1);
        if (data.scalar()) {
            throw fail(label(n) + " gathers from a scalar");
        }
        long[] out = new long[indices.values().length];
        for (int i = 0; i < out.length; i++) {
            long k = indices.values()[i];
            long at = k < 0 ? k + data.values().length : k;
            if (k == BATCH || at < 0 || at >= data.values().length) {
                throw fail(label(n) + ": index " + (k == BATCH ? "N" : Long.toString(k)) + " is outside a vector of "
                        + data.values().length);
            }
            out[i] = data.values()[(int) at];
        }
        return new Dims(out, indices.scalar());
    }

    private Value unsqueeze(NodeProto n) {
        attributes(n);
        Dims data = dims(n, 0);
        Dims axes = dims(n, 1);
        if (!data.scalar() || axes.values().length != 1 || (axes.values()[0] != 0 && axes.values()[0] != -1)) {
            throw fail(label(n) + " makes a tensor of more than one dimension; the import unsqueezes scalars of shape"
                    + " vectors only");
        }
        return new Dims(data.values(), false);
    }

    private Value concat(NodeProto n) {
        Map<String, AttributeProto> a = attributes(n, "axis");
        long axis = integer(n, a, "axis", Long.MIN_VALUE);
        if (axis == Long.MIN_VALUE) {
            throw fail(label(n) + " has no axis attribute, which Concat requires");
        }
        List<Value> in = new ArrayList<>();
        for (int i = 0; i < n.getInputCount(); i++) {
            in.add(value(n, i));
        }
        if (in.isEmpty()) {
            throw fail(label(n) + " has no inputs");
        }
        if (in.stream().allMatch(v -> v instanceof Activation)) {
            return concatActivations(n, in, axis);
        }
        // Shape vectors: int64 values on their one axis.
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            Dims d = dims(n, i);
            if (d.scalar() || (axis != 0 && axis != -1)) {
                throw fail(label(n) + " joins " + (d.scalar() ? "scalars" : "along axis " + axis)
                        + "; the import joins activations along the channels or shape vectors");
            }
            for (long v : d.values()) {
                out.add(v);
            }
        }
        return new Dims(out.stream().mapToLong(Long::longValue).toArray(), false);
    }

    private Value concatActivations(NodeProto n, List<Value> in, long axis) {
        Shape first = ((Activation) in.get(0)).item();
        int rank = first.rank();
        if (axis != 1 && axis != -rank) {
            throw fail(label(n) + ": attribute axis = " + axis + " joins along another dimension than the channels"
                    + " (axis 1), which Receptive's Concat joins");
        }
        long channels = 0;
        List<Activation> xs = new ArrayList<>();
        for (Value v : in) {
            Activation x = (Activation) v;
            Shape s = x.item();
            boolean fits = s.rank() == rank;
            for (int d = 1; fits && d < rank; d++) {
                fits = s.dim(d) == first.dim(d);
            }
            if (!fits) {
                throw fail(label(n) + " joins items of shapes " + first + " and " + s
                        + ": all dimensions but the channels must be equal");
            }
            channels += s.dim(0);
            xs.add(x);
        }
        if (xs.size() == 1) {
            return xs.get(0);
        }
        int[] dims = first.dims().clone();
        dims[0] = (int) Math.min(channels, Integer.MAX_VALUE);
        if (channels > Integer.MAX_VALUE) {
            throw fail(label(n) + " joins more than 2^31 - 1 channels");
        }
        return merge(n, "Concat", xs, shape(dims, n));
    }

    /** Reshape: flattening items, the end of an exported whole-item softmax, or nothing at all. */
    private Value reshape(NodeProto n) {
        Map<String, AttributeProto> a = attributes(n, "allowzero");
        boolean allowZero = integer(n, a, "allowzero", 0) != 0;
        Activation x = activation(n, 0);
        long[] target = dims(n, 1).values();
        long[] full = new long[x.item().rank() + 1];
        full[0] = BATCH;
        for (int i = 0; i < x.item().rank(); i++) {
            full[i + 1] = x.item().dim(i);
        }
        long[] out = target.clone();
        int inferred = -1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == 0 && !allowZero) {
                if (i >= full.length) {
                    throw fail(label(n) + ": shape " + show(target) + " copies dimension " + i + " of "
                            + show(full) + ", which has none");
                }
                out[i] = full[i];
            } else if (out[i] == -1) {
                if (inferred >= 0) {
                    throw fail(label(n) + ": shape " + show(target) + " has two -1");
                }
                inferred = i;
            } else if (out[i] < 1 && out[i] != BATCH) {
                throw fail(label(n) + ": shape " + show(target) + " has dimension " + out[i]
                        + " (empty tensors are not supported)");
            }
        }
        if (out.length == 0 || !(out[0] == BATCH || (inferred == 0) || (batchLiteral > 0 && out[0] == batchLiteral))) {
            throw fail(label(n) + ": shape " + show(target) + " of " + show(full) + " does not keep the batch"
                    + " dimension first");
        }
        long size = x.item().size();
        long known = 1;
        for (int i = 1; i < out.length; i++) {
            if (i != inferred) {
                if (out[i] == BATCH) {
                    throw fail(label(n) + ": shape " + show(target) + " moves the batch dimension");
                }
                known *= out[i];
                if (known > size) {
                    throw fail(label(n) + ": shape " + show(target) + " holds more values per item than "
                            + show(full));
                }
            }
        }
        if (inferred > 0) {
            if (known == 0 || size % known != 0) {
                throw fail(label(n) + ": shape " + show(target) + " does not divide " + show(full));
            }
            out[inferred] = size / known;
        } else if (known != size) {
            throw fail(label(n) + ": shape " + show(target) + " holds " + known + " values per item, " + show(full)
                    + " holds " + size);
        }
        int[] item = new int[out.length - 1];
        for (int i = 0; i < item.length; i++) {
            item[i] = (int) out[i + 1];
        }
        Shape to = shape(item, n);
        if (to.equals(x.item())) {
            return x;
        }
        if (to.rank() == 1) {
            return flattenOf(n, x);
        }
        Value softmax = wholeItemSoftmax(n, x, to);
        if (softmax != null) {
            return softmax;
        }
        throw fail(label(n) + " reshapes items of " + x.item() + " to " + to + "; the import reshapes only to flatten"
                + " items (or back after a softmax over flattened items)");
    }

    /**
     * Flatten, then Softmax, then Reshape back (Receptive's export of a softmax over a whole
     * C·H·W item, and PyTorch's of {@code softmax(x.flatten(1), 1).view_as(x)}) is one Receptive
     * softmax: its input is the flatten's, and it is named after the reshape.
     */
    private Value wholeItemSoftmax(NodeProto n, Activation x, Shape to) {
        Spec soft = x.producer();
        if (soft == null || !soft.type.equals("Softmax") || readers(x) != 1) {
            return null;
        }
        Activation flat = soft.inputs.get(0);
        Spec flatten = flat.producer();
        if (flatten == null || !flatten.type.equals("Flatten") || readers(flat) != 1
                || !flatten.inputs.get(0).item().equals(to)) {
            return null;
        }
        soft.inputs = List.of(flatten.inputs.get(0));
        soft.namedBy = n;
        return new Activation(soft, to);
    }

    private Value flatten(NodeProto n) {
        Map<String, AttributeProto> a = attributes(n, "axis");
        Activation x = activation(n, 0);
        long axis = integer(n, a, "axis", 1);
        if (axis != 1 && axis != -x.item().rank()) {
            throw fail(label(n) + ": attribute axis = " + axis + "; the import flattens each item (axis 1)");
        }
        return flattenOf(n, x);
    }

    private Value flattenOf(NodeProto n, Activation x) {
        if (x.item().rank() == 1) {
            return x;
        }
        return layer(n, "Flatten", Flatten::new, x, shape(new int[] {x.item().size()}, n));
    }

    /** Pad with zeros on the height and width: kept for the Conv or AveragePool that reads it. */
    private Value pad(NodeProto n) {
        Map<String, AttributeProto> a = attributes(n, "mode");
        String mode = string(n, a, "mode", "constant");
        if (!mode.equals("constant")) {
            throw fail(label(n) + ": attribute mode = " + mode + "; the import takes zero padding (constant) only");
        }
        Activation x = image(n, 0);
        long[] pads = dims(n, 1).values();
        if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
            Constant c = constant(n, 2, "constant_value");
            if (c.size() != 1 || (c.isFloat() ? c.floats()[0] != 0 : c.longs()[0] != 0)) {
                throw fail(label(n) + " pads with " + c + " values; the import takes zero padding only");
            }
        }
        if (n.getInputCount() > 3 && !n.getInput(3).isEmpty()) {
            throw fail(label(n) + " names axes (input 4); the import takes pads for all four dimensions");
        }
        if (pads.length != 8) {
            throw fail(label(n) + ": pads " + show(pads) + " must have 8 values for (N, C, H, W) input");
        }
        if (pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0) {
            throw fail(label(n) + ": pads " + show(pads) + " pad the batch or channel dimension");
        }
        int[] hw = new int[4];
        int[] from = {2, 3, 6, 7};
        for (int i = 0; i < 4; i++) {
            long p = pads[from[i]];
            if (p < 0 || p > Integer.MAX_VALUE / 4) {
                throw fail(label(n) + ": pads " + show(pads) + (p < 0 ? " crop the image" : " are too large"));
            }
            hw[i] = (int) p;
        }
        if (hw[0] == 0 && hw[1] == 0 && hw[2] == 0 && hw[3] == 0) {
            return x;
        }
        return new Padded(x, hw, n);
    }

    private Value conv(NodeProto n) {
        Map<String, AttributeProto> a = attributes(n, "auto_pad", "dilations", "group", "kernel_shape", "pads",
                "strides");
        Value v = value(n, 0);
        int[] extra = new int[4];
        Activation x;
        if (v instanceof Padded p) {
            x = p.source();
            extra = p.pads();
        } else {
            x = image(n, 0);
        }
        Constant w = constant(n, 1, "weight");
        if (!w.isFloat() || w.rank() != 4) {
            throw fail(label(n) + ": weight " + w + " must be float (K, C, R, S); the import takes 2-D convolutions");
        }
        long group = integer(n, a, "group", 1);
        if (group != 1) {
            throw fail(label(n) + ": attribute group = " + group + "; grouped and depthwise convolutions are not"
                    + " supported");
        }
        int k = toInt(n, w.dims()[0], "filters");
        int c = x.item().dim(0);
        if (w.dims()[1] != c) {
            throw fail(label(n) + ": weight " + w + " takes " + w.dims()[1] + " channels but the input has " + c);
        }
        int[] kernel = {toInt(n, w.dims()[2], "kernel"), toInt(n, w.dims()[3], "kernel")};
        long[] kernelAttr = longs(n, a, "kernel_shape", null);
        if (kernelAttr != null && !Arrays.equals(kernelAttr, new long[] {kernel[0], kernel[1]})) {
            throw fail(label(n) + ": attribute kernel_shape = " + show(kernelAttr) + " differs from the weight " + w);
        }
        int[] stride = pair(n, a, "strides", 1);
        int[] dilation = pair(n, a, "dilations", 1);
        int[] pads = pads(n, a, x.item(), kernel, stride, dilation);
        for (int i = 0; i < 4; i++) {
            pads[i] += extra[i];
        }
        HeightWidth padding = symmetric(n, pads);
        Constant b = null;
        if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
            b = constant(n, 2, "bias");
            if (!b.isFloat() || b.size() != k || b.rank() != 1) {
                throw fail(label(n) + ": bias " + b + " must be float (" + k + ")");
            }
        }
        Conv2d.Settings s = settings(n, () -> new Conv2d.Settings(k, new HeightWidth(kernel[0], kernel[1]),
                new HeightWidth(stride[0], stride[1]), padding, new HeightWidth(dilation[0], dilation[1]),
                n.getInputCount() > 2 && !n.getInput(2).isEmpty(), Init.he()));
        int[] out = new int[] {k, convOut(n, x.item().dim(1), kernel[0], stride[0], padding.height(), dilation[0]),
            convOut(n, x.item().dim(2), kernel[1], stride[1], padding.width(), dilation[1])};
        Spec spec = spec(n, "Conv2d", () -> new Conv2d(s), x);
        spec.prefix = prefix(n.getInput(1));
        spec.state.put("weight", host(w, k, c, kernel[0], kernel[1]));
        if (b != null) {
            spec.state.put("bias", host(b, k));
        }
        return new Activation(spec, shape(out, n));
    }

    private int convOut(NodeProto n, int in, int kernel, int stride, int pad, int dilation) {
        long out = Math.floorDiv((long) in + 2L * pad - (long) dilation * (kernel - 1) - 1, stride) + 1;
        if (out < 1) {
            throw fail(label(n) + ": an input of " + in + " gives no output for kernel " + kernel + ", stride " + stride
                    + ", padding " + pad + " and dilation " + dilation);
        }
        return (int) out;
    }

    private Value pool(NodeProto n) {
        boolean max = n.getOpType().equals("MaxPool");
        Map<String, AttributeProto> a = max
                ? attributes(n, "auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides")
                : attributes(n, "auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads",
                        "strides");
        unusedOutputs(n, 1);
        long[] kernelAttr = longs(n, a, "kernel_shape", null);
        if (kernelAttr == null || kernelAttr.length != 2) {
            throw fail(label(n) + ": attribute kernel_shape must give a height and a width, got "
                    + (kernelAttr == null ? "none" : show(kernelAttr)));
        }
        int[] window = {toInt(n, kernelAttr[0], "kernel_shape"), toInt(n, kernelAttr[1], "kernel_shape")};
        int[] dilation = pair(n, a, "dilations", 1);
        if (dilation[0] != 1 || dilation[1] != 1) {
            throw fail(label(n) + ": attribute dilations = " + Arrays.toString(dilation) + "; pooling windows are dense");
        }
        int[] stride = pair(n, a, "strides", 1);
        Value v = value(n, 0);
        Activation x;
        int[] extra = new int[4];
        if (v instanceof Padded p && !max) {
            x = p.source();
            extra = p.pads();
        } else if (v instanceof Padded p) {
            throw fail(label(n) + " reads the zeros of " + label(p.pad()) + ", which the import cannot give a max-pool"
                    + " (its own padding never wins the maximum)");
        } else {
            x = image(n, 0);
        }
        int[] pads = pads(n, a, x.item(), window, stride, dilation);
        boolean ownPads = pads[0] + pads[1] + pads[2] + pads[3] > 0;
        if (!max && ownPads && integer(n, a, "count_include_pad", 0) == 0) {
            throw fail(label(n) + ": attribute count_include_pad = 0 with padding " + Arrays.toString(pads)
                    + "; Receptive's average pooling counts the padding (PyTorch's default)");
        }
        for (int i = 0; i < 4; i++) {
            pads[i] += extra[i];
        }
        HeightWidth padding = symmetric(n, pads);
        int[] in = {x.item().dim(1), x.item().dim(2)};
        int[] pad = {padding.height(), padding.width()};
        int[] out = new int[3];
        out[0] = x.item().dim(0);
        for (int d = 0; d < 2; d++) {
            long span = (long) in[d] + 2L * pad[d] - window[d];
            if (span < 0) {
                throw fail(label(n) + ": a window of " + window[d] + " does not fit an input of " + in[d]
                        + " with padding " + pad[d]);
            }
            if (integer(n, a, "ceil_mode", 0) != 0 && span % stride[d] != 0) {
                throw fail(label(n) + ": attribute ceil_mode = 1 adds a last, partial window here (input " + in[d]
                        + ", window " + window[d] + ", stride " + stride[d] + ", padding " + pad[d]
                        + "); Receptive's pooling rounds the output size down");
            }
            out[d + 1] = (int) (span / stride[d] + 1);
        }
        Pool2d.Settings s = settings(n, () -> new Pool2d.Settings(new HeightWidth(window[0], window[1]),
                new HeightWidth(stride[0], stride[1]), padding));
        return layer(n, max ? "MaxPool2d" : "AvgPool2d", max ? () -> new MaxPool2d(s) : () -> new AvgPool2d(s), x,
                shape(out, n));
    }

    /** [top, left, bottom, right] from pads or auto_pad. */
    private int[] pads(NodeProto n, Map<String, AttributeProto> a, Shape item, int[] kernel, int[] stride,
            int[] dilation) {
        String auto = string(n, a, "auto_pad", "NOTSET");
        long[] pads = longs(n, a, "pads", null);
        if (!auto.equals("NOTSET") && pads != null) {
            throw fail(label(n) + " has both pads and auto_pad = " + auto);
        }
        int[] out = new int[4];
        switch (auto) {
            case "NOTSET" -> {
                if (pads != null) {
                    if (pads.length != 4) {
                        throw fail(label(n) + ": attribute pads = " + show(pads) + " must have 4 values (top, left,"
                                + " bottom, right)");
                    }
                    for (int i = 0; i < 4; i++) {
                        if (pads[i] < 0 || pads[i] > Integer.MAX_VALUE / 4) {
                            throw fail(label(n) + ": attribute pads = " + show(pads) + " is out of range");
                        }
                        out[i] = (int) pads[i];
                    }
                }
            }
            case "VALID" -> {
                // no padding
            }
            case "SAME_UPPER", "SAME_LOWER" -> {
                for (int d = 0; d < 2; d++) {
                    int in = item.dim(d + 1);
                    long total = Math.max(0, ((long) -Math.floorDiv(-in, stride[d]) - 1) * stride[d]
                            + (long) (kernel[d] - 1) * dilation[d] + 1 - in);
                    if (total % 2 != 0) {
                        throw fail(label(n) + ": attribute auto_pad = " + auto + " pads " + total + " rows or columns"
                                + " here, one more on one side; Receptive pads both sides alike");
                    }
                    out[d] = (int) (total / 2);
                    out[d + 2] = (int) (total / 2);
                }
            }
            default -> throw fail(label(n) + ": attribute auto_pad = " + auto + " is not an ONNX value");
        }
        return out;
    }

    private HeightWidth symmetric(NodeProto n, int[] pads) {
        if (pads[0] != pads[2] || pads[1] != pads[3]) {
            throw fail(label(n) + ": padding [top, left, bottom, right] = " + Arrays.toString(pads)
                    + " is asymmetric; Receptive pads both sides alike");
        }
        return new HeightWidth(pads[0], pads[1]);
    }

    private Value batchNorm(NodeProto n) {
        Map<String, AttributeProto> a = attributes(n, "epsilon", "momentum", "training_mode");
        if (integer(n, a, "training_mode", 0) != 0) {
            throw fail(label(n) + ": attribute training_mode = 1; the import takes models exported for inference");
        }
        unusedOutputs(n, 1);
        Activation x = activation(n, 0);
        Shape item = x.item();
        if (item.rank() != 1 && item.rank() != 3) {
            throw fail(label(n) + " normalizes items of " + item + "; Receptive's batch norm takes (C, H, W) or (F)");
        }
        int c = item.dim(0);
        Constant scale = vector(n, 1, "scale", c);
        Constant bias = vector(n, 2, "B", c);
        Constant mean = vector(n, 3, "input_mean", c);
        Constant var = vector(n, 4, "input_var", c);
        float eps = floating(n, a, "epsilon", 1e-5f);
        float momentum = floating(n, a, "momentum", 0.9f);
        // Read through the shortest decimal of each float: 1e-5f is 1e-5, and 1 - 0.9f is PyTorch's 0.1.
        double e = Double.parseDouble(Float.toString(eps));
        double m = BigDecimal.ONE.subtract(new BigDecimal(Float.toString(momentum))).doubleValue();
        BatchNorm.Settings s = settings(n, () -> new BatchNorm.Settings(e, m));
        Spec spec = spec(n, item.rank() == 3 ? "BatchNorm2d" : "BatchNorm1d",
                item.rank() == 3 ? () -> new BatchNorm2d(s) : () -> new BatchNorm1d(s), x);
        spec.prefix = prefix(n.getInput(1));
        spec.state.put("weight", host(scale, c));
        spec.state.put("bias", host(bias, c));
        spec.state.put("running_mean", host(mean, c));
        spec.state.put("running_var", host(var, c));
        spec.state.put("num_batches_tracked", new HostTensor(Shape.of(1), new float[1]));
        return new Activation(spec, item);
    }

    private Constant vector(NodeProto n, int i, String role, int c) {
        Constant t = constant(n, i, role);
        if (!t.isFloat() || t.rank() != 1 || t.size() != c) {
            throw fail(label(n) + ": " + role + " " + t + " must be float (" + c + ")");
        }
        return t;
    }

    private Value pointwise(NodeProto n, String type, Supplier<Layer> make) {
        attributes(n);
        Activation x = activation(n, 0);
        return layer(n, type, make, x, x.item());
    }

    private Value gemm(NodeProto n) {
        Map<String, AttributeProto> a = attributes(n, "alpha", "beta", "transA", "transB");
        if (integer(n, a, "transA", 0) != 0) {
            throw fail(label(n) + ": attribute transA = 1; the import takes items as rows");
        }
        float alpha = floating(n, a, "alpha", 1f);
        float beta = floating(n, a, "beta", 1f);
        boolean hasC = n.getInputCount() > 2 && !n.getInput(2).isEmpty();
        if (alpha != 1f || (hasC && beta != 1f)) {
            throw fail(label(n) + ": attribute " + (alpha != 1f ? "alpha = " + alpha : "beta = " + beta)
                    + "; Receptive's dense layer computes x·Wᵀ + b, without scale factors");
        }
        Activation x = flat(n, 0);
        Constant b = constant(n, 1, "B");
        int f = x.item().dim(0);
        boolean transB = integer(n, a, "transB", 0) != 0;
        if (!b.isFloat() || b.rank() != 2 || b.dims()[transB ? 1 : 0] != f) {
            throw fail(label(n) + ": B " + b + " must be float " + (transB ? "(units, " + f + ")" : "(" + f + ", units)")
                    + " for items of " + x.item());
        }
        int units = toInt(n, b.dims()[transB ? 0 : 1], "units");
        float[] w = finite(b.name(), transB ? b.floats() : transpose(b.floats(), f, units));
        Spec spec = denseSpec(n, x, units, new HostTensor(shape(new int[] {units, f}, n), w));
        if (hasC) {
            Constant c = constant(n, 2, "C");
            setBias(n, spec, c, units, true);
        }
        return new Activation(spec, shape(new int[] {units}, n));
    }

    private Value matMul(NodeProto n) {
        attributes(n);
        if (!(value(n, 0) instanceof Activation) || !(value(n, 1) instanceof Tensor)) {
            throw fail(label(n) + " multiplies " + kind(value(n, 0)) + " by " + kind(value(n, 1))
                    + "; the import takes items times a constant weight (a dense layer)");
        }
        Activation x = flat(n, 0);
        Constant b = constant(n, 1, "B");
        int f = x.item().dim(0);
        if (!b.isFloat() || b.rank() != 2 || b.dims()[0] != f) {
            throw fail(label(n) + ": B " + b + " must be float (" + f + ", units) for items of " + x.item());
        }
        int units = toInt(n, b.dims()[1], "units");
        Spec spec = denseSpec(n, x, units, new HostTensor(shape(new int[] {units, f}, n),
                finite(b.name(), transpose(b.floats(), f, units))));
        return new Activation(spec, shape(new int[] {units}, n));
    }

    private Spec denseSpec(NodeProto n, Activation x, int units, HostTensor w) {
        Spec spec = spec(n, "Dense", () -> new Dense(new Dense.Settings(units, false, Init.he())), x);
        spec.prefix = prefix(n.getInput(1));
        spec.state.put("weight", w);
        return spec;
    }

    /** Gives a dense layer its bias: Gemm's C, or the constant a MatMul's output is added to. */
    private void setBias(NodeProto n, Spec dense, Constant c, int units, boolean broadcast) {
        boolean vector = c.rank() == 1 || (c.rank() == 2 && c.dims()[0] == 1);
        if (!c.isFloat() || !(c.size() == units && vector || broadcast && c.size() == 1)) {
            throw fail(label(n) + ": bias " + c + " must be float (" + units + ")" + (broadcast ? " or one value" : ""));
        }
        float[] bias = c.size() == units ? finite(c.name(), c.floats()) : new float[units];
        if (c.size() != units) {
            Arrays.fill(bias, finite(c.name(), c.floats())[0]);
        }
        dense.state.put("bias", new HostTensor(shape(new int[] {units}, n), bias));
        dense.layer = () -> new Dense(new Dense.Settings(units, true, Init.he()));
    }

    private static float[] transpose(float[] b, int rows, int cols) {
        float[] t = new float[b.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j * rows + i] = b[i * cols + j];
            }
        }
        return t;
    }

    /** Add: a residual sum of two activations, or the bias of the MatMul before it. */
    private Value add(NodeProto n) {
        attributes(n);
        if (n.getInputCount() != 2) {
            throw fail(label(n) + " has " + n.getInputCount() + " inputs; Add takes two");
        }
        Value v0 = value(n, 0);
        Value v1 = value(n, 1);
        if (v0 instanceof Activation a && v1 instanceof Activation b) {
            if (!a.item().equals(b.item())) {
                throw fail(label(n) + " adds items of " + a.item() + " and " + b.item()
                        + "; Receptive's Add takes equal shapes (no broadcasting)");
            }
            return merge(n, "Add", List.of(a, b), a.item());
        }
        int x = v0 instanceof Activation ? 0 : 1;
        if (value(n, x) instanceof Activation a && value(n, 1 - x) instanceof Tensor t) {
            Spec dense = a.producer();
            if (dense != null && dense.type.equals("Dense") && !dense.state.containsKey("bias") && readers(a) == 1) {
                setBias(n, dense, t.constant(), a.item().dim(0), false);
                return a;
            }
            throw fail(label(n) + " adds the constant " + t.constant() + " to an activation; the import takes such a sum"
                    + " only as the bias of the MatMul or Gemm it follows");
        }
        throw fail(label(n) + " adds " + kind(v0) + " and " + kind(v1) + "; the import adds activations");
    }

    private Value softmax(NodeProto n) {
        Map<String, AttributeProto> a = attributes(n, "axis");
        Activation x = activation(n, 0);
        Shape item = x.item();
        long axis = integer(n, a, "axis", -1);
        long at = axis < 0 ? axis + item.rank() + 1 : axis;
        if (at < 1 || at > item.rank()) {
            throw fail(label(n) + ": attribute axis = " + axis + (at == 0 ? " normalizes across the batch"
                    : " is outside the input's dimensions"));
        }
        for (int d = 0; d < item.rank(); d++) {
            if (d != at - 1 && item.dim(d) != 1) {
                throw fail(label(n) + ": attribute axis = " + axis + " normalizes along one dimension of items of "
                        + item + "; Receptive's Softmax normalizes each whole item (flatten first)");
            }
        }
        return layer(n, "Softmax", Softmax::new, x, item);
    }

    private Value dropout(NodeProto n) {
        attributes(n, "seed");
        unusedOutputs(n, 1);
        Activation x = activation(n, 0);
        float p = 0.5f;
        if (n.getInputCount() > 1 && !n.getInput(1).isEmpty()) {
            Constant ratio = constant(n, 1, "ratio");
            if (!ratio.isFloat() || ratio.size() != 1) {
                throw fail(label(n) + ": ratio " + ratio + " must be one float");
            }
            p = ratio.floats()[0];
        }
        if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
            Constant training = constant(n, 2, "training_mode");
            if (training.size() != 1 || (training.isFloat() ? training.floats()[0] : training.longs()[0]) != 0) {
                throw fail(label(n) + ": training_mode " + training + " is not false; the import takes models exported"
                        + " for inference");
            }
        }
        float ratio = p;
        Dropout.Settings s = settings(n, () -> new Dropout.Settings(ratio));
        return layer(n, "Dropout", () -> new Dropout(s), x, x.item());
    }

    // ---- making the model ---------------------------------------------------------------

    private Spec spec(NodeProto n, String type, Supplier<Layer> layer, Activation x) {
        Spec s = new Spec(type, n);
        s.layer = layer;
        s.inputs = List.of(x);
        specs.add(s);
        return s;
    }

    private Activation layer(NodeProto n, String type, Supplier<Layer> make, Activation x, Shape out) {
        return new Activation(spec(n, type, make, x), out);
    }

    private Activation merge(NodeProto n, String type, List<Activation> xs, Shape out) {
        Spec s = new Spec(type, n);
        s.merge = true;
        s.inputs = List.copyOf(xs);
        specs.add(s);
        return new Activation(s, out);
    }

    /** The nodes the output depends on, named, as a described graph. */
    private ModelDescription build(Shape input, Spec output, ModelInfo info) {
        Set<Spec> live = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        List<Spec> stack = new ArrayList<>(List.of(output));
        while (!stack.isEmpty()) {
            Spec s = stack.remove(stack.size() - 1);
            if (live.add(s)) {
                for (Activation in : s.inputs) {
                    if (in.producer() != null) {
                        stack.add(in.producer());
                    }
                }
            }
        }
        Set<String> taken = new HashSet<>(Set.of(Model.INPUT));
        Graph.Builder graph = Graph.builder().input(input.dims());
        Map<String, HostTensor> state = new LinkedHashMap<>();
        for (Spec s : specs) {
            if (!live.contains(s)) {
                continue;
            }
            s.name = unique(s.prefix != null && NAME.matcher(s.prefix).matches() ? s.prefix : sanitize(s), taken);
            String[] ins = s.inputs.stream().map(i -> i.producer() == null ? Model.INPUT : i.producer().name)
                    .toArray(String[]::new);
            if (s.merge) {
                graph.add(s.name, s.type.equals("Add") ? new Add() : new Concat(), ins);
            } else {
                graph.add(s.name, s.layer.get(), ins[0]);
            }
            s.state.forEach((local, t) -> state.put(s.name + "." + local, t));
        }
        try {
            return graph.output(output.name).describe(state, info);
        } catch (IllegalArgumentException e) {
            throw fail("does not make a valid Receptive model: " + e.getMessage(), e);
        }
    }

    /** An ONNX node name as a Receptive node name: "/layer1/conv1/Conv" as "layer1.conv1.Conv". */
    private static String sanitize(Spec s) {
        String name = s.namedBy.getName().replaceAll("[^A-Za-z0-9_]+", ".").replaceAll("^\\.+|\\.+$", "");
        return name.isEmpty() ? s.type.toLowerCase(java.util.Locale.ROOT) : name;
    }

    private static String unique(String name, Set<String> taken) {
        String n = name;
        for (int k = 2; !taken.add(n); k++) {
            n = name + "_" + k;
        }
        return n;
    }

    /** "layer1.conv1" of a weight read as "layer1.conv1.weight" (an Identity may give it that name); else null. */
    private static String prefix(String weightName) {
        return weightName.endsWith(".weight") ? weightName.substring(0, weightName.length() - ".weight".length()) : null;
    }

    private ModelInfo info(ModelProto model) {
        Map<String, String> meta = new HashMap<>();
        for (StringStringEntryProto e : model.getMetadataPropsList()) {
            meta.put(e.getKey(), e.getValue());
        }
        Normalization norm = null;
        String value = meta.get(ModelFile.NORMALIZATION);
        if (value != null) {
            String[] parts = value.split(",", -1);
            try {
                double mean = parts.length == 2 ? Double.parseDouble(parts[0].trim()) : Double.NaN;
                double std = parts.length == 2 ? Double.parseDouble(parts[1].trim()) : Double.NaN;
                if (!Double.isFinite(mean) || !Double.isFinite(std) || !(std >= OnnxFile.MIN_STD)) {
                    throw new NumberFormatException();
                }
                norm = new Normalization(mean, std);
            } catch (NumberFormatException e) {
                throw fail("metadata " + ModelFile.NORMALIZATION + " is '" + value + "', not 'mean,std' with a finite"
                        + " mean and a standard deviation of at least " + OnnxFile.MIN_STD);
            }
        }
        List<String> classes = List.of();
        String names = meta.get(ModelFile.CLASSES);
        if (names != null) {
            try {
                String[] parsed = new Gson().fromJson(names, String[].class);
                if (parsed == null || Arrays.asList(parsed).contains(null)) {
                    throw new JsonParseException("not an array of strings");
                }
                classes = List.of(parsed);
            } catch (JsonParseException e) {
                throw fail("metadata " + ModelFile.CLASSES + " is not a JSON array of class names: " + e.getMessage());
            }
        }
        try {
            return new ModelInfo(norm, classes);
        } catch (IllegalArgumentException e) {
            throw fail("metadata " + ModelFile.CLASSES + ": " + e.getMessage(), e);
        }
    }

    // ---- values ---------------------------------------------------------------------------

    private void define(String name, Value v, String by) {
        if (name.isEmpty()) {
            throw fail("the " + by + " has no name");
        }
        if (values.putIfAbsent(name, v) != null) {
            throw fail("the value '" + name + "' is defined twice (again by the " + by + ")");
        }
    }

    private int uses(String value) {
        return uses.getOrDefault(value, 0);
    }

    /**
     * How often the graph reads {@code a} under any of its names (Identity gives a value a second
     * name): a node may fuse into the one before only when it is that node's only reader.
     */
    private int readers(Activation a) {
        int n = 0;
        for (Map.Entry<String, Value> e : values.entrySet()) {
            if (e.getValue() == a) {
                n += uses(e.getKey());
            }
        }
        return n;
    }

    private Value value(NodeProto n, int i) {
        if (i >= n.getInputCount() || n.getInput(i).isEmpty()) {
            throw fail(label(n) + " lacks input " + (i + 1));
        }
        Value v = values.get(n.getInput(i));
        if (v == null) {
            throw fail(label(n) + " reads '" + n.getInput(i) + "', an output the import does not compute (such as"
                    + " Dropout's mask or MaxPool's indices)");
        }
        return v;
    }

    private Activation activation(NodeProto n, int i) {
        Value v = value(n, i);
        if (v instanceof Activation a) {
            return a;
        }
        if (v instanceof Padded p) {
            throw fail(label(n) + " reads the zero padding of " + label(p.pad()) + "; the import folds a Pad only into"
                    + " the Conv or AveragePool that follows it");
        }
        throw fail(label(n) + ": input " + (i + 1) + " '" + n.getInput(i) + "' is " + kind(v)
                + ", where the import expects an activation");
    }

    /** An activation of (C, H, W) items. */
    private Activation image(NodeProto n, int i) {
        Activation x = activation(n, i);
        if (x.item().rank() != 3) {
            throw fail(label(n) + " takes (N, C, H, W) input, got items of " + x.item());
        }
        return x;
    }

    /** An activation of flat (F) items. */
    private Activation flat(NodeProto n, int i) {
        Activation x = activation(n, i);
        if (x.item().rank() != 1) {
            throw fail(label(n) + " takes (N, F) input, got items of " + x.item() + " (flatten them first)");
        }
        return x;
    }

    private Constant constant(NodeProto n, int i, String role) {
        Value v = value(n, i);
        if (v instanceof Tensor t) {
            return t.constant();
        }
        if (v instanceof Dims d && !Arrays.stream(d.values()).anyMatch(x -> x == BATCH)) {
            return new Constant(n.getInput(i), d.scalar() ? new long[0] : new long[] {d.values().length}, null,
                    d.values());
        }
        throw fail(label(n) + ": " + role + " '" + n.getInput(i) + "' is " + kind(v) + "; the import takes it as a"
                + " constant (an initializer or Constant node)");
    }

    /** An int64 scalar or vector: a shape vector, or a constant of rank 0 or 1. */
    private Dims dims(NodeProto n, int i) {
        Value v = value(n, i);
        if (v instanceof Dims d) {
            return d;
        }
        if (v instanceof Tensor t && !t.constant().isFloat() && t.constant().rank() <= 1) {
            return new Dims(t.constant().longs(), t.constant().rank() == 0);
        }
        throw fail(label(n) + ": input " + (i + 1) + " '" + n.getInput(i) + "' is " + kind(v)
                + ", where the import expects int64 values of rank 0 or 1");
    }

    private static String kind(Value v) {
        if (v instanceof Activation) {
            return "an activation";
        }
        if (v instanceof Tensor t) {
            return "a constant " + (t.constant().isFloat() ? "float" : "int64") + " tensor";
        }
        if (v instanceof Dims) {
            return "a shape vector";
        }
        return "a Pad's output";
    }

    /** The outputs after the first n must be left out or read by no one (Dropout's mask, BatchNorm's statistics). */
    private void unusedOutputs(NodeProto n, int kept) {
        for (int i = kept; i < n.getOutputCount(); i++) {
            String out = n.getOutput(i);
            if (!out.isEmpty() && uses(out) > 0) {
                throw fail(label(n) + ": output " + (i + 1) + " '" + out + "' is read by another node; the import"
                        + " computes only the first output of " + n.getOpType());
            }
        }
    }

    // ---- attributes -----------------------------------------------------------------------

    /** The node's attributes by name; one the op does not have is an error naming it. */
    private Map<String, AttributeProto> attributes(NodeProto n, String... known) {
        Map<String, AttributeProto> a = new HashMap<>();
        List<String> allowed = List.of(known);
        for (AttributeProto attr : n.getAttributeList()) {
            if (!allowed.contains(attr.getName())) {
                throw fail(label(n) + ": attribute '" + attr.getName() + "' is not one of " + n.getOpType() + "'s"
                        + (allowed.isEmpty() ? " (it has none)" : " " + allowed));
            }
            if (a.put(attr.getName(), attr) != null) {
                throw fail(label(n) + " has the attribute '" + attr.getName() + "' twice");
            }
        }
        return a;
    }

    private void expect(NodeProto n, AttributeProto a, AttributeProto.AttributeType type) {
        if (a.getType() != type) {
            throw fail(label(n) + ": attribute " + a.getName() + " is of type " + a.getType() + ", not " + type);
        }
    }

    private long integer(NodeProto n, Map<String, AttributeProto> a, String name, long otherwise) {
        AttributeProto attr = a.get(name);
        if (attr == null) {
            return otherwise;
        }
        expect(n, attr, AttributeProto.AttributeType.INT);
        return attr.getI();
    }

    private float floating(NodeProto n, Map<String, AttributeProto> a, String name, float otherwise) {
        AttributeProto attr = a.get(name);
        if (attr == null) {
            return otherwise;
        }
        expect(n, attr, AttributeProto.AttributeType.FLOAT);
        return attr.getF();
    }

    private String string(NodeProto n, Map<String, AttributeProto> a, String name, String otherwise) {
        AttributeProto attr = a.get(name);
        if (attr == null) {
            return otherwise;
        }
        expect(n, attr, AttributeProto.AttributeType.STRING);
        return attr.getS().toStringUtf8();
    }

    private long[] longs(NodeProto n, Map<String, AttributeProto> a, String name, long[] otherwise) {
        AttributeProto attr = a.get(name);
        if (attr == null) {
            return otherwise;
        }
        expect(n, attr, AttributeProto.AttributeType.INTS);
        return attr.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    /** A [height, width] attribute such as strides, each at least 1. */
    private int[] pair(NodeProto n, Map<String, AttributeProto> a, String name, int otherwise) {
        long[] v = longs(n, a, name, new long[] {otherwise, otherwise});
        if (v.length != 2) {
            throw fail(label(n) + ": attribute " + name + " = " + show(v) + " must give a height and a width (2-D)");
        }
        return new int[] {toInt(n, v[0], name), toInt(n, v[1], name)};
    }

    private int toInt(NodeProto n, long v, String what) {
        if (v < 1 || v > Integer.MAX_VALUE) {
            throw fail(label(n) + ": " + what + " = " + v + " is out of range");
        }
        return (int) v;
    }

    // ---- messages -------------------------------------------------------------------------

    private <T> T settings(NodeProto n, Supplier<T> make) {
        try {
            return make.get();
        } catch (IllegalArgumentException e) {
            throw fail(label(n) + ": " + e.getMessage(), e);
        }
    }

    private Shape shape(int[] dims, Object at) {
        try {
            return Shape.of(dims);
        } catch (IllegalArgumentException e) {
            throw fail((at instanceof NodeProto n ? label(n) : at) + ": " + e.getMessage(), e);
        }
    }

    private HostTensor host(Constant c, int... dims) {
        return new HostTensor(shape(dims, c.name()), finite(c.name(), c.floats()));
    }

    /** Weights that are NaN or infinite are refused, as model files refuse them. */
    private float[] finite(String name, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw fail("tensor '" + name + "' holds " + values[i] + " at element " + i
                        + "; a model with non-finite weights predicts nothing useful");
            }
        }
        return values;
    }

    /** "Conv node '/conv1/Conv'", or with its output when the node has no name. */
    private static String label(NodeProto n) {
        return n.getOpType() + " node '" + (n.getName().isEmpty() && n.getOutputCount() > 0 ? "(writes " + n.getOutput(0)
                + ")" : n.getName()) + "'";
    }

    private static String show(long[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(v[i] == BATCH ? "N" : Long.toString(v[i]));
        }
        return sb.append(']').toString();
    }

    private static String shown(List<String> items) {
        return items.size() <= SHOWN ? String.join(", ", items)
                : String.join(", ", items.subList(0, SHOWN)) + " and " + (items.size() - SHOWN) + " more";
    }

    private OnnxFormatException fail(String message) {
        return new OnnxFormatException(where + ": " + message);
    }

    private OnnxFormatException fail(String message, Throwable cause) {
        return new OnnxFormatException(where + ": " + message, cause);
    }
}
