package dev.receptive.nn;

import dev.receptive.tensor.Shape;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model's graph checked and planned without a backend: the nodes in an order where each comes
 * after its inputs, every item shape, and the parameters and buffers each layer declares (names,
 * shapes, how they start), so that what a placement costs is known before anything is allocated.
 * {@link Model} is a plan placed on a backend; {@link ModelDescription} keeps one for its shapes,
 * summary and memory.
 *
 * <p>Planning names and shapes the layers it is given, which then belong to this plan.
 */
final class ModelPlan {
    private final Shape inputShape;
    private final long seed;
    private final List<Node> nodes;
    private final boolean chain;
    private final List<Parameter> parameters;
    private final List<Buffer> buffers;
    private final int[] reluFusions;
    private final int[] addReluFusions;

    private ModelPlan(Shape inputShape, long seed, List<Node> nodes, boolean chain) {
        this.inputShape = inputShape;
        this.seed = seed;
        this.nodes = Collections.unmodifiableList(nodes);
        this.chain = chain;
        this.reluFusions = reluFusions(nodes);
        this.addReluFusions = addReluFusions(nodes);
        List<Parameter> ps = new ArrayList<>();
        List<Buffer> bs = new ArrayList<>();
        for (Node n : nodes) {
            if (n.layer() != null) {
                ps.addAll(n.layer().parameters());
                bs.addAll(n.layer().buffers());
            }
        }
        this.parameters = Collections.unmodifiableList(ps);
        this.buffers = Collections.unmodifiableList(bs);
    }

    /**
     * Orders the nodes, infers every shape and lets the layers declare their parameters and
     * buffers; allocates nothing. Errors start with {@code who} and name the node.
     *
     * @throws IllegalArgumentException naming what is wrong: a missing part, an unknown input, a cycle, a node
     *     that does not lead to the output, a layer used twice, a shape that does not fit, a name taken twice
     */
    static ModelPlan of(Shape input, List<Graph.Spec> specs, String output, long seed, String who) {
        if (input == null) {
            throw new IllegalArgumentException(who + ": input(...) must be set");
        }
        if (specs.isEmpty()) {
            throw new IllegalArgumentException(who + ": add at least one layer");
        }
        List<Graph.Spec> order = topologicalOrder(specs, output, who);
        Map<Object, String> seen = new IdentityHashMap<>();
        for (Graph.Spec s : order) {
            Object op = s.layer() != null ? s.layer() : s.merge();
            String before = seen.put(op, s.name());
            if (before != null || (s.layer() != null && s.layer().isBuilt())) {
                String kind = s.layer() != null ? "layer " : "node ";
                throw new IllegalArgumentException(who + ": " + kind + s.name() + " (" + typeOf(s) + ") is "
                        + (before != null ? "the same instance as " + kind + before : "already part of another model")
                        + "; a layer belongs to one model");
            }
        }
        Map<String, Integer> index = new HashMap<>();
        Map<String, Shape> shapes = new HashMap<>();
        shapes.put(Model.INPUT, input);
        List<Node> nodes = new ArrayList<>();
        boolean chain = true;
        for (int i = 0; i < order.size(); i++) {
            Graph.Spec s = order.get(i);
            List<Shape> ins = new ArrayList<>();
            int[] idx = new int[s.inputs().size()];
            for (int k = 0; k < idx.length; k++) {
                String in = s.inputs().get(k);
                ins.add(shapes.get(in));
                idx[k] = in.equals(Model.INPUT) ? -1 : index.get(in);
            }
            chain &= s.layer() != null && s.name().equals(Integer.toString(i)) && idx[0] == i - 1;
            Shape out;
            try {
                out = s.layer() != null ? s.layer().plan(s.name(), i, ins.get(0), seed) : mergeShape(s, ins);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(who + ": " + e.getMessage(), e);
            }
            nodes.add(new Node(s.name(), s.layer(), s.merge(), s.inputs(), idx, ins, out));
            index.put(s.name(), i);
            shapes.put(s.name(), out);
        }
        ModelPlan plan = new ModelPlan(input, seed, nodes, chain);
        plan.checkNames(who);
        return plan;
    }

    /**
     * The planning pass that fuses a layer with the ReLU after it: entry j is the index of the
     * node whose output node j's ReLU reads when the two run as one fused op, else −1. A pair
     * fuses when the producer can apply a ReLU as it writes ({@link Layer#fusesRelu}: convolution,
     * dense and batch norm layers, through the backend's conv2dBiasRelu, denseBiasRelu and
     * batchNormRelu ops) and the ReLU is
     * its only reader, so that nothing else needs the value before the ReLU. A workspace then runs
     * the pair as one op forward and one backward; the ReLU node's output is the producer's.
     */
    private static int[] reluFusions(List<Node> nodes) {
        int[] readers = readers(nodes);
        int[] fused = new int[nodes.size()];
        for (int j = 0; j < nodes.size(); j++) {
            fused[j] = -1;
            Node n = nodes.get(j);
            int in = n.inputIndices()[0];
            if (n.layer() instanceof ReLU && in >= 0 && readers[in] == 1) {
                Layer producer = nodes.get(in).layer();
                if (producer != null && producer.fusesRelu()) {
                    fused[j] = in;
                }
            }
        }
        return fused;
    }

    /** {@return for each node, the producer it runs fused with (see {@link #reluFusions(List)}), or −1} */
    int[] reluFusions() {
        return reluFusions.clone();
    }

    /**
     * The planning pass that fuses the tail of a residual block, y = relu(layer(x) + shortcut):
     * entry j is the index of the layer whose output the add read by node j's ReLU takes, when the
     * three run as one fused op, else −1. A triple fuses when node j is a ReLU whose only input is an
     * add of two inputs read by nothing else, and one of those inputs (the first that fits) is a
     * layer that can add and apply a ReLU as it writes ({@link Layer#fusesAddRelu}: batch norm,
     * through the backend's batchNormAddRelu ops) read by nothing but the add. The add's other input
     * is the shortcut. A workspace runs the triple as one op where the add stands (when both inputs
     * are there) and one backward; the add's and the ReLU's outputs are the layer's.
     */
    private static int[] addReluFusions(List<Node> nodes) {
        int[] readers = readers(nodes);
        int[] fused = new int[nodes.size()];
        Arrays.fill(fused, -1);
        for (int j = 0; j < nodes.size(); j++) {
            int a = nodes.get(j).inputIndices()[0];
            if (!(nodes.get(j).layer() instanceof ReLU) || a < 0 || readers[a] != 1
                    || !(nodes.get(a).merge() instanceof Add)) {
                continue;
            }
            int[] in = nodes.get(a).inputIndices();
            if (in.length != 2 || in[0] == in[1]) {
                continue;
            }
            for (int k : in) {
                if (k >= 0 && readers[k] == 1 && nodes.get(k).layer() != null && nodes.get(k).layer().fusesAddRelu()) {
                    fused[j] = k;
                    break;
                }
            }
        }
        return fused;
    }

    /** {@return for each ReLU node, the layer it runs fused with through an add (see {@link #addReluFusions(List)}), or −1} */
    int[] addReluFusions() {
        return addReluFusions.clone();
    }

    /** {@return for each node, how many nodes read it (twice if one node reads it twice)} */
    private static int[] readers(List<Node> nodes) {
        int[] readers = new int[nodes.size()];
        for (Node n : nodes) {
            for (int in : n.inputIndices()) {
                if (in >= 0) {
                    readers[in]++;
                }
            }
        }
        return readers;
    }

    private static Shape mergeShape(Graph.Spec s, List<Shape> ins) {
        try {
            return s.merge().outputShape(ins);
        } catch (IllegalArgumentException e) {
            StringBuilder from = new StringBuilder();
            for (int k = 0; k < ins.size(); k++) {
                from.append(k == 0 ? "" : k == ins.size() - 1 ? " and " : ", ").append(s.inputs().get(k)).append(' ')
                        .append(ins.get(k));
            }
            throw new IllegalArgumentException("node " + s.name() + " (" + s.merge().type() + ") with inputs " + from
                    + ": " + e.getMessage(), e);
        }
    }

    private static String typeOf(Graph.Spec s) {
        return s.layer() != null ? s.layer().type() : s.merge().type();
    }

    /**
     * The nodes in an order where each comes after its inputs (keeping the declared order where it
     * can), or an error for an unknown input, a cycle, or a node the output does not depend on.
     * Depth-first from the output with an explicit stack, so a chain of any length fits.
     */
    private static List<Graph.Spec> topologicalOrder(List<Graph.Spec> specs, String output, String who) {
        Map<String, Graph.Spec> byName = new LinkedHashMap<>();
        for (Graph.Spec s : specs) {
            byName.put(s.name(), s);
        }
        for (Graph.Spec s : specs) {
            for (String in : s.inputs()) {
                if (!in.equals(Model.INPUT) && !byName.containsKey(in)) {
                    throw new IllegalArgumentException(who + ": node " + s.name() + " reads '" + in
                            + "', which is no node (nodes: " + names(byName) + ", and '" + Model.INPUT + "')");
                }
            }
        }
        if (output == null || !byName.containsKey(output)) {
            throw new IllegalArgumentException(who + ": output must name a node, got '" + output + "' (nodes: "
                    + names(byName) + ")");
        }
        List<Graph.Spec> order = new ArrayList<>();
        Map<String, Boolean> done = new HashMap<>(); // false while on the path, true once ordered
        // Each frame is a node on the current path and the index of the next input to visit.
        Deque<Graph.Spec> path = new ArrayDeque<>();
        Deque<int[]> next = new ArrayDeque<>();
        path.push(byName.get(output));
        next.push(new int[1]);
        done.put(output, false);
        while (!path.isEmpty()) {
            Graph.Spec s = path.peek();
            int[] k = next.peek();
            if (k[0] == s.inputs().size()) {
                path.pop();
                next.pop();
                done.put(s.name(), true);
                order.add(s);
                continue;
            }
            String in = s.inputs().get(k[0]++);
            if (in.equals(Model.INPUT)) {
                continue;
            }
            Boolean state = done.get(in);
            if (state == null) {
                done.put(in, false);
                path.push(byName.get(in));
                next.push(new int[1]);
            } else if (!state) {
                List<String> cycle = new ArrayList<>();
                for (Graph.Spec p : path) {
                    cycle.add(p.name());
                    if (p.name().equals(in)) {
                        break;
                    }
                }
                Collections.reverse(cycle);
                cycle.add(in);
                if (cycle.size() > 21) {
                    int length = cycle.size() - 1;
                    List<String> ends = new ArrayList<>(cycle.subList(0, 10));
                    ends.add("… (" + length + " nodes) …");
                    ends.addAll(cycle.subList(cycle.size() - 10, cycle.size()));
                    cycle = ends;
                }
                throw new IllegalArgumentException(who + ": the nodes form a cycle: " + String.join(" -> ", cycle)
                        + " (each reads the next)");
            }
        }
        if (order.size() != specs.size()) {
            for (Graph.Spec s : specs) {
                if (!done.containsKey(s.name())) {
                    throw new IllegalArgumentException(who + ": node " + s.name() + " (" + typeOf(s)
                            + ") does not lead to the output " + output + "; remove it or connect it");
                }
            }
        }
        return order;
    }

    /** The node names for a message, the first few of a large graph. */
    private static String names(Map<String, Graph.Spec> byName) {
        List<String> names = new ArrayList<>(byName.keySet());
        return names.size() <= 20 ? names.toString()
                : names.subList(0, 20).toString().replace("]", ", … (" + names.size() + " in all)]");
    }

    private void checkNames(String who) {
        Map<String, String> seen = new HashMap<>();
        for (Parameter p : parameters) {
            if (seen.put(p.name(), "parameter") != null) {
                throw new IllegalArgumentException(who + ": two parameters are named " + p.name());
            }
        }
        for (Buffer b : buffers) {
            if (seen.put(b.name(), "buffer") != null) {
                throw new IllegalArgumentException(who + ": the buffer name " + b.name() + " is taken");
            }
        }
    }

    /**
     * Every parameter and buffer has an entry of its shape in {@code state}, and nothing else is
     * there; errors start with {@code prefix} and name the tensor and both shapes.
     */
    void checkState(Map<String, HostTensor> state, String prefix) {
        for (Parameter p : parameters) {
            checkEntry(state, p.name(), p.shape(), prefix);
        }
        for (Buffer b : buffers) {
            checkEntry(state, b.name(), b.shape(), prefix);
        }
        if (state.size() != parameters.size() + buffers.size()) {
            List<String> names = stateNames();
            Set<String> known = new HashSet<>(names);
            for (String name : state.keySet()) {
                if (!known.contains(name)) {
                    throw new IllegalArgumentException(prefix + "unexpected tensor '" + name + "' (the model's state: "
                            + (names.size() <= 20 ? names : names.subList(0, 20) + " and " + (names.size() - 20)
                            + " more") + ")");
                }
            }
        }
    }

    private static void checkEntry(Map<String, HostTensor> state, String name, Shape shape, String prefix) {
        HostTensor t = state.get(name);
        if (t == null) {
            throw new IllegalArgumentException(prefix + "tensor '" + name + "' is missing (expected shape " + shape + ")");
        }
        if (!t.shape().equals(shape)) {
            throw new IllegalArgumentException(prefix + "tensor '" + name + "' has shape " + t.shape()
                    + " but the model expects " + shape);
        }
    }

    /** {@return the state-dict names: each node's parameters, then its buffers, node by node} */
    List<String> stateNames() {
        List<String> names = new ArrayList<>();
        for (Node n : nodes) {
            if (n.layer() != null) {
                n.layer().parameters().forEach(p -> names.add(p.name()));
                n.layer().buffers().forEach(b -> names.add(b.name()));
            }
        }
        return names;
    }

    Shape inputShape() {
        return inputShape;
    }

    Shape outputShape() {
        return nodes.get(nodes.size() - 1).outputShape();
    }

    long seed() {
        return seed;
    }

    List<Node> nodes() {
        return nodes;
    }

    boolean isChain() {
        return chain;
    }

    List<Parameter> parameters() {
        return parameters;
    }

    List<Buffer> buffers() {
        return buffers;
    }

    long parameterCount() {
        long n = 0;
        for (Parameter p : parameters) {
            n += p.shape().size();
        }
        return n;
    }

    /** {@return the bytes a placement allocates: every parameter with its gradient, and every buffer (fp32)} */
    long placementBytes() {
        long floats = 2 * parameterCount();
        for (Buffer b : buffers) {
            floats += b.shape().size();
        }
        return floats * Float.BYTES;
    }

    /** {@return the bytes of the largest host array a fresh placement draws initial values into} */
    long largestDrawnBytes() {
        long drawn = 0;
        for (Parameter p : parameters) {
            if (p.init() != null) {
                drawn = Math.max(drawn, p.shape().size());
            }
        }
        return drawn * Float.BYTES;
    }

    /** {@return a table of nodes, output shapes and parameter counts, like torchsummary or Keras, one node a line} */
    String summary() {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"Node (type)", "Output shape", "Inputs", "Params"});
        rows.add(new String[] {Model.INPUT, batchedString(inputShape), "", "0"});
        for (Node n : nodes) {
            long count = 0;
            if (n.layer() != null) {
                for (Parameter p : n.layer().parameters()) {
                    count += p.shape().size();
                }
            }
            rows.add(new String[] {n.name() + " (" + n.type() + ")", batchedString(n.outputShape()),
                    chain ? "" : String.join(", ", n.inputs()), grouped(count)});
        }
        // Columns as wide as their longest entry (at least the widths of a small chain's table),
        // so that the long node names and input lists of a graph keep the table aligned.
        int[] width = {22, 20, 14, 12};
        for (String[] row : rows) {
            for (int c = 0; c < width.length; c++) {
                width[c] = Math.max(width[c], row[c].length());
            }
        }
        String rule = "=".repeat(width[0] + width[1] + width[2] + width[3] + 3) + System.lineSeparator();
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < rows.size(); r++) {
            String[] row = rows.get(r);
            // Padded by hand: String.format parses its pattern on every call, which a 100,000-node graph feels.
            for (int c = 0; c < 3; c++) {
                sb.append(row[c]).append(" ".repeat(width[c] - row[c].length() + 1));
            }
            sb.append(" ".repeat(width[3] - row[3].length())).append(row[3]).append(System.lineSeparator());
            if (r == 0) {
                sb.append(rule);
            }
        }
        sb.append(rule);
        sb.append("Total params: ").append(grouped(parameterCount())).append(System.lineSeparator());
        return sb.toString();
    }

    /** 1234567 as "1,234,567". */
    private static String grouped(long n) {
        String digits = Long.toString(Math.abs(n));
        StringBuilder sb = new StringBuilder(n < 0 ? "-" : "");
        for (int i = 0; i < digits.length(); i++) {
            if (i > 0 && (digits.length() - i) % 3 == 0) {
                sb.append(',');
            }
            sb.append(digits.charAt(i));
        }
        return sb.toString();
    }

    /** "(N, 1, 28, 28)". */
    static String batchedString(Shape item) {
        StringBuilder sb = new StringBuilder("(N");
        for (int i = 0; i < item.rank(); i++) {
            sb.append(", ").append(item.dim(i));
        }
        return sb.append(')').toString();
    }
}
