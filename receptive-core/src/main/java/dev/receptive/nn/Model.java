package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.nn.init.Init;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A network: nodes (layers and merges) in a directed acyclic graph from one input to one output,
 * with their parameters and buffers on one backend. Built by {@link Sequential} (a chain, nodes
 * "0", "1", …, like PyTorch's nn.Sequential) or {@link Graph} (named nodes). The model holds
 * configuration and state only; a forward and backward pass runs in a {@link Workspace}, and
 * inference from many threads in its {@link #predictor()}.
 *
 * <pre>
 * try (Workspace ws = model.newWorkspace()) {
 *     model.zeroGrad();
 *     Tensor logits = ws.forward(x, Pass.train(step));
 *     loss.compute(logits, labels);
 *     ws.backward(loss.gradient());              // adds into every parameter's grad
 *     optimizer.step(model.parameters());
 * }
 * </pre>
 *
 * <p>Thread-safety: any number of threads may run forward passes at once, each in its own
 * workspace (or through the predictor), while nothing changes the weights. Backward writes the
 * parameter gradients: one backward at a time per model (a second one at the same time is
 * refused). Updating weights (optimizer, {@link #loadStateDict}) while other threads run forward
 * passes is not supported. {@link #close()} must come after every other use.
 */
public final class Model implements AutoCloseable {
    /** The name by which nodes read the model's input. */
    public static final String INPUT = "input";

    private final Backend backend;
    private final Shape inputShape;
    private final long seed;
    private final List<Node> nodes;
    private final boolean chain;
    private final List<Parameter> parameters;
    private final List<Buffer> buffers;
    private final AtomicReference<Thread> backwardBy = new AtomicReference<>();
    private volatile ModelInfo info = ModelInfo.NONE;
    private volatile Predictor predictor;
    private volatile boolean closed;

    private Model(Backend backend, Shape inputShape, long seed, List<Node> nodes, boolean chain) {
        this.backend = backend;
        this.inputShape = inputShape;
        this.seed = seed;
        this.nodes = Collections.unmodifiableList(nodes);
        this.chain = chain;
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
     * Rebuilds a model from {@link #architecture()} on {@code backend}, with fresh weights from
     * its seed.
     *
     * @param json what {@link #architecture()} wrote
     * @param backend where the tensors go
     * @return the new model; the caller owns it and closes it
     * @throws IllegalArgumentException naming the field or node that is wrong
     * @throws ModelTooLargeException when the model's parameters do not fit the free heap (CPU backend)
     */
    public static Model fromArchitecture(String json, Backend backend) {
        return Architecture.fromJson(json).build(backend, null);
    }

    /**
     * Rebuilds a model from {@link #architecture()} on {@code backend} with the parameters and
     * buffers of {@code state}, every name and shape checked before anything is allocated (so a
     * file that does not fit its architecture costs no memory).
     *
     * @param json what {@link #architecture()} wrote
     * @param backend where the tensors go
     * @param state exactly the model's entries by state-dict name, as {@link #stateDict()} returns them
     * @return the new model; the caller owns it and closes it
     * @throws IllegalArgumentException naming the field, node or state entry that is wrong
     * @throws ModelTooLargeException when the model's parameters do not fit the free heap (CPU backend)
     */
    public static Model fromArchitecture(String json, Backend backend, Map<String, HostTensor> state) {
        if (state == null) {
            throw new IllegalArgumentException("model: state must not be null");
        }
        return Architecture.fromJson(json).build(backend, state);
    }

    // ---- building -----------------------------------------------------------------------

    /**
     * Checks the graph and every shape, then makes the tensors: from {@code values} (by state-dict
     * name, every name and shape checked before anything is allocated) or, when null, initialized
     * from the seed.
     */
    static Model build(Shape input, List<Graph.Spec> specs, String output, long seed, Backend backend,
            Map<String, HostTensor> values, String who) {
        if (input == null) {
            throw new IllegalArgumentException(who + ": input(...) must be set");
        }
        if (specs.isEmpty()) {
            throw new IllegalArgumentException(who + ": add at least one layer");
        }
        if (backend == null) {
            throw new IllegalArgumentException(who + ": backend must not be null");
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
        // Shapes and parameter declarations first: nothing is allocated until all fit.
        Map<String, Integer> index = new HashMap<>();
        Map<String, Shape> shapes = new HashMap<>();
        shapes.put(INPUT, input);
        List<Node> nodes = new ArrayList<>();
        boolean chain = true;
        for (int i = 0; i < order.size(); i++) {
            Graph.Spec s = order.get(i);
            List<Shape> ins = new ArrayList<>();
            int[] idx = new int[s.inputs().size()];
            for (int k = 0; k < idx.length; k++) {
                String in = s.inputs().get(k);
                ins.add(shapes.get(in));
                idx[k] = in.equals(INPUT) ? -1 : index.get(in);
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
        Model model = new Model(backend, input, seed, nodes, chain);
        model.checkNames(who);
        if (values != null) {
            model.checkState(values, "");
        }
        model.checkHeap(who, values == null);
        model.allocate(who, values);
        return model;
    }

    /**
     * On the CPU backend, whose tensors live on the Java heap: refuses a model whose parameters,
     * gradients and buffers cannot fit the free heap, before anything is allocated (a few bytes
     * of architecture JSON can declare billions of weights). A fresh model also holds, for a
     * moment, the host array its largest parameter's initial values are drawn into.
     */
    private void checkHeap(String who, boolean fresh) {
        if (!(backend instanceof dev.receptive.backend.cpu.CpuBackend)) {
            return;
        }
        long floats = 0;
        long parameters = 0;
        long drawn = 0;
        for (Node n : nodes) {
            if (n.layer() != null) {
                for (Parameter p : n.layer().parameters()) {
                    parameters += p.shape().size();
                    floats += 2L * p.shape().size();
                    if (fresh && p.init() != null) {
                        drawn = Math.max(drawn, p.shape().size());
                    }
                }
                for (Buffer b : n.layer().buffers()) {
                    floats += b.shape().size();
                }
            }
        }
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        long bytes = (floats + drawn) * Float.BYTES;
        if (bytes > free) {
            throw new ModelTooLargeException(who + ": the model's " + parameters + " parameters need " + (bytes >> 20)
                    + " MB with their gradients, but the Java heap has " + (free >> 20) + " MB free; give the JVM more"
                    + " with -Xmx", null);
        }
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
     */
    private static List<Graph.Spec> topologicalOrder(List<Graph.Spec> specs, String output, String who) {
        Map<String, Graph.Spec> byName = new LinkedHashMap<>();
        for (Graph.Spec s : specs) {
            byName.put(s.name(), s);
        }
        for (Graph.Spec s : specs) {
            for (String in : s.inputs()) {
                if (!in.equals(INPUT) && !byName.containsKey(in)) {
                    throw new IllegalArgumentException(who + ": node " + s.name() + " reads '" + in
                            + "', which is no node (nodes: " + byName.keySet() + ", and '" + INPUT + "')");
                }
            }
        }
        if (output == null || !byName.containsKey(output)) {
            throw new IllegalArgumentException(who + ": output must name a node, got '" + output + "' (nodes: "
                    + byName.keySet() + ")");
        }
        List<Graph.Spec> order = new ArrayList<>();
        Map<String, Integer> state = new HashMap<>(); // 1 visiting, 2 done
        visit(byName.get(output), byName, state, order, new ArrayList<>(), who);
        if (order.size() != specs.size()) {
            for (Graph.Spec s : specs) {
                if (!state.containsKey(s.name())) {
                    throw new IllegalArgumentException(who + ": node " + s.name() + " (" + typeOf(s)
                            + ") does not lead to the output " + output + "; remove it or connect it");
                }
            }
        }
        return order;
    }

    /** Depth-first: inputs first, in their order; a node seen while visiting closes a cycle. */
    private static void visit(Graph.Spec s, Map<String, Graph.Spec> byName, Map<String, Integer> state,
            List<Graph.Spec> order, List<String> path, String who) {
        Integer st = state.get(s.name());
        if (st != null && st == 2) {
            return;
        }
        path.add(s.name());
        if (st != null) {
            throw new IllegalArgumentException(who + ": the nodes form a cycle: "
                    + String.join(" -> ", path.subList(path.indexOf(s.name()), path.size())) + " (each reads the next)");
        }
        state.put(s.name(), 1);
        for (String in : s.inputs()) {
            if (!in.equals(INPUT)) {
                visit(byName.get(in), byName, state, order, path, who);
            }
        }
        state.put(s.name(), 2);
        path.remove(path.size() - 1);
        order.add(s);
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
    private void checkState(Map<String, HostTensor> state, String prefix) {
        for (Parameter p : parameters) {
            checkEntry(state, p.name(), p.shape(), prefix);
        }
        for (Buffer b : buffers) {
            checkEntry(state, b.name(), b.shape(), prefix);
        }
        if (state.size() != parameters.size() + buffers.size()) {
            List<String> names = stateNames();
            for (String name : state.keySet()) {
                if (!names.contains(name)) {
                    throw new IllegalArgumentException(prefix + "unexpected tensor '" + name + "' (the model's state: "
                            + names + ")");
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

    private List<String> stateNames() {
        List<String> names = new ArrayList<>();
        parameters.forEach(p -> names.add(p.name()));
        buffers.forEach(b -> names.add(b.name()));
        return names;
    }

    private void allocate(String who, Map<String, HostTensor> values) {
        try {
            for (Node n : nodes) {
                Layer layer = n.layer();
                if (layer == null) {
                    continue;
                }
                layer.attach(backend);
                for (Parameter p : layer.parameters()) {
                    Tensor value = values != null ? backend.upload(values.get(p.name()).data(), p.shape())
                            : initial(p);
                    Tensor grad;
                    try {
                        grad = backend.allocate(p.shape());
                    } catch (RuntimeException | OutOfMemoryError e) {
                        value.close();
                        throw e;
                    }
                    p.attach(value, grad);
                }
                for (Buffer b : layer.buffers()) {
                    Tensor value;
                    if (values != null) {
                        value = backend.upload(values.get(b.name()).data(), b.shape());
                    } else {
                        value = backend.allocate(b.shape());
                        if (b.initial() != 0) {
                            backend.fill(value, b.initial());
                        }
                    }
                    b.attach(value);
                }
            }
        } catch (RuntimeException e) {
            closeLayers();
            throw e;
        } catch (OutOfMemoryError e) {
            // The heap check counts free bytes, but a collector may still fail one large array
            // (a generation or region too small for it); what was allocated is released first.
            closeLayers();
            throw new ModelTooLargeException(who + ": the model's parameters do not fit the Java heap ("
                    + (Runtime.getRuntime().maxMemory() >> 20) + " MB); give the JVM more with -Xmx", e);
        }
    }

    /** Drawn by the parameter's init from a stream seeded by the model seed and the parameter's name. */
    private Tensor initial(Parameter p) {
        Init init = p.init();
        if (init == null) {
            Tensor t = backend.allocate(p.shape());
            if (p.constant() != 0) {
                backend.fill(t, p.constant());
            }
            return t;
        }
        float[] values = new float[p.shape().size()];
        init.initialize(values, p.fanIn(), p.fanOut(), new SplittableRandom(mix(seed ^ mix(p.name().hashCode()))));
        return backend.upload(values, p.shape());
    }

    /** MurmurHash3's 64-bit finalizer: spreads the seed so nearby seeds give unrelated streams. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    // ---- running ------------------------------------------------------------------------

    /**
     * {@return a new workspace for forward and backward passes on one thread; the caller closes it}
     *
     * @throws IllegalStateException when the model is closed
     */
    public Workspace newWorkspace() {
        checkOpen();
        return new Workspace(this);
    }

    /**
     * {@return the model's thread-safe predictor (one per model, made on first use, closed with the model)}
     *
     * @throws IllegalStateException when the model is closed
     */
    public Predictor predictor() {
        checkOpen();
        Predictor p = predictor;
        if (p == null) {
            synchronized (this) {
                p = predictor;
                if (p == null) {
                    p = new Predictor(this);
                    predictor = p;
                }
            }
        }
        return p;
    }

    /**
     * The class probabilities of one item of {@link #inputShape()} (already normalized), through
     * {@link #predictor()}; thread-safe.
     *
     * @param item the {@code inputShape().size()} values of one item
     * @return one probability per class, summing to 1
     * @throws IllegalArgumentException when the values are not exactly one item
     * @throws IllegalStateException when the model is closed or its output is not a number
     */
    public float[] predict(float[] item) {
        return predictor().probabilities(item);
    }

    /** Sets every parameter's gradient to zero; backward passes then add into them. */
    public void zeroGrad() {
        checkOpen();
        for (Parameter p : parameters) {
            backend.fill(p.grad(), 0f);
        }
    }

    /** Marks the start of a backward pass; a second one at the same time is refused. */
    void beginBackward() {
        Thread me = Thread.currentThread();
        if (!backwardBy.compareAndSet(null, me)) {
            Thread other = backwardBy.get();
            throw new IllegalStateException("model: a backward pass is already running on thread '"
                    + (other == null ? "?" : other.getName()) + "'; the parameter gradients belong to one training loop"
                    + " at a time");
        }
    }

    void endBackward() {
        backwardBy.set(null);
    }

    // ---- what the model is ----------------------------------------------------------------

    /** {@return the nodes, each after its inputs; the last is the output (unmodifiable)} */
    public List<Node> nodes() {
        return nodes;
    }

    /** {@return the layers in node order, merges left out (an unmodifiable copy)} */
    public List<Layer> layers() {
        List<Layer> layers = new ArrayList<>();
        for (Node n : nodes) {
            if (n.layer() != null) {
                layers.add(n.layer());
            }
        }
        return Collections.unmodifiableList(layers);
    }

    /** {@return whether the model is a plain chain named "0", "1", … (what {@link Sequential} builds)} */
    public boolean isSequential() {
        return chain;
    }

    /** {@return every parameter, in node order: the order of the state dict (unmodifiable)} */
    public List<Parameter> parameters() {
        return parameters;
    }

    /**
     * {@return every buffer, in node order (unmodifiable); the state dict lists them after the parameters of their
     * layer's node}
     */
    public List<Buffer> buffers() {
        return buffers;
    }

    /** {@return the item input shape, without the batch dimension, e.g. (1, 28, 28)} */
    public Shape inputShape() {
        return inputShape;
    }

    /** {@return the item output shape, without the batch dimension, e.g. (10)} */
    public Shape outputShape() {
        return nodes.get(nodes.size() - 1).outputShape();
    }

    /** {@return the seed of parameter init and dropout masks} */
    public long seed() {
        return seed;
    }

    /** {@return the backend every tensor of the model lives on; the model does not own it} */
    public Backend backend() {
        return backend;
    }

    /** {@return what inference needs to know about the data: normalization and class names} */
    public ModelInfo info() {
        return info;
    }

    /**
     * Records the data's normalization and class names (the trainer does, from the training set).
     *
     * @param info the new info, {@link ModelInfo#NONE} for none
     * @throws IllegalArgumentException when info is null, or its class names do not match a flat output's size
     */
    public void setInfo(ModelInfo info) {
        if (info == null) {
            throw new IllegalArgumentException("model: info must not be null (use ModelInfo.NONE)");
        }
        if (!info.classNames().isEmpty() && outputShape().rank() == 1 && info.classNames().size() != outputShape().dim(0)) {
            throw new IllegalArgumentException("model: " + info.classNames().size() + " class names for an output of "
                    + outputShape());
        }
        this.info = info;
    }

    /** {@return the number of trainable values, summed over every parameter} */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : parameters) {
            n += p.shape().size();
        }
        return n;
    }

    /** {@return a table of nodes, output shapes and parameter counts, like torchsummary or Keras, one node a line} */
    public String summary() {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"Node (type)", "Output shape", "Inputs", "Params"});
        rows.add(new String[] {INPUT, batchedString(inputShape), "", "0"});
        for (Node n : nodes) {
            long count = 0;
            if (n.layer() != null) {
                for (Parameter p : n.layer().parameters()) {
                    count += p.shape().size();
                }
            }
            rows.add(new String[] {n.name() + " (" + n.type() + ")", batchedString(n.outputShape()),
                    chain ? "" : String.join(", ", n.inputs()), String.format("%,d", count)});
        }
        // Columns as wide as their longest entry (at least the widths of a small chain's table),
        // so that the long node names and input lists of a graph keep the table aligned.
        int[] width = {22, 20, 14, 12};
        for (String[] row : rows) {
            for (int c = 0; c < width.length; c++) {
                width[c] = Math.max(width[c], row[c].length());
            }
        }
        String format = "%-" + width[0] + "s %-" + width[1] + "s %-" + width[2] + "s %" + width[3] + "s%n";
        String rule = "=".repeat(width[0] + width[1] + width[2] + width[3] + 3) + System.lineSeparator();
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < rows.size(); r++) {
            sb.append(String.format(format, (Object[]) rows.get(r)));
            if (r == 0) {
                sb.append(rule);
            }
        }
        sb.append(rule);
        sb.append(String.format("Total params: %,d%n", parameterCount()));
        return sb.toString();
    }

    /**
     * {@return the architecture as JSON (input shape, seed, each node's type, settings and inputs), without weights;
     * see {@link #fromArchitecture}}
     */
    public String architecture() {
        return Architecture.toJson(this);
    }

    // ---- state ----------------------------------------------------------------------------

    /**
     * {@return every parameter's and buffer's values by name, node by node, each node's parameters before its
     * buffers (PyTorch's state_dict): copies on the host}
     *
     * @throws IllegalStateException when the model is closed
     */
    public LinkedHashMap<String, HostTensor> stateDict() {
        checkOpen();
        LinkedHashMap<String, HostTensor> state = new LinkedHashMap<>();
        for (Node n : nodes) {
            if (n.layer() == null) {
                continue;
            }
            for (Parameter p : n.layer().parameters()) {
                state.put(p.name(), new HostTensor(p.shape(), backend.download(p.value())));
            }
            for (Buffer b : n.layer().buffers()) {
                state.put(b.name(), new HostTensor(b.shape(), backend.download(b.value())));
            }
        }
        return state;
    }

    /**
     * Loads parameter and buffer values by name. Every name and shape is checked first, so on a
     * mismatch nothing changes; the state must hold exactly this model's entries (PyTorch's
     * strict mode).
     *
     * @param state values by state-dict name, as {@link #stateDict()} returns them
     * @throws IllegalArgumentException naming the first missing, unexpected or misshapen entry
     * @throws IllegalStateException when the model is closed
     */
    public void loadStateDict(Map<String, HostTensor> state) {
        checkOpen();
        checkState(state, "loadStateDict: ");
        for (Parameter p : parameters) {
            backend.upload(p.value(), state.get(p.name()).data());
        }
        for (Buffer b : buffers) {
            backend.upload(b.value(), state.get(b.name()).data());
        }
    }

    /** Closes the predictor's workspaces and every layer's tensors, last node first. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Predictor p = predictor;
        if (p != null) {
            p.close();
        }
        closeLayers();
    }

    boolean isClosed() {
        return closed;
    }

    private void closeLayers() {
        for (int i = nodes.size() - 1; i >= 0; i--) {
            if (nodes.get(i).layer() != null) {
                nodes.get(i).layer().close();
            }
        }
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("model: the model is closed");
        }
    }

    /** (n, item...). */
    static Shape batched(int n, Shape item) {
        int[] d = new int[item.rank() + 1];
        d[0] = n;
        for (int i = 0; i < item.rank(); i++) {
            d[i + 1] = item.dim(i);
        }
        return Shape.of(d);
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
