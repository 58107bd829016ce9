package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where one thread runs a {@link Model}: the activations of a forward pass, what backward needs of
 * it, and the gradients flowing back. Its tensors are made for a batch size on first use and
 * reused while the batch size stays; a tensor returned by {@link #forward} is valid until the next
 * forward in the same workspace. An inference workspace ({@link Model#newInferenceWorkspace()})
 * runs evaluation passes only and holds no gradient tensors.
 *
 * <p>A workspace belongs to one thread at a time: a call made while another thread is inside
 * this workspace is refused with an {@link IllegalStateException}. Use one workspace per thread,
 * or the model's {@link Model#predictor()}, which pools them.
 */
public final class Workspace implements AutoCloseable {
    private final Model model;
    private final Backend backend;
    private final List<Node> nodes;
    private final Scratch[] scratch;
    private final boolean[] needsGrad;
    private final int[] consumers;
    /** For a ReLU node that runs fused with the node before it, that node's index; else −1. */
    private final int[] fusedInto;
    /** Whether node i runs fused with the ReLU that reads it. */
    private final boolean[] fusesRelu;
    /** For the ReLU of a fused residual tail (layer, add, ReLU as one op), the layer's index; else −1. */
    private final int[] tailOf;
    /** For the add of a fused residual tail, where the one op runs, the layer's index; else −1. */
    private final int[] tailAt;
    /** Whether node i is the layer of a fused residual tail (it runs at its add). */
    private final boolean[] tailLayer;
    private final boolean inference;
    private final AtomicReference<Thread> user = new AtomicReference<>();
    private int batch = -1;
    private Tensor input;
    private Tensor[] out;
    private Tensor[] grad;
    private Tensor[][] spare;
    private boolean[] written;
    private Tensor lastInput;
    private Pass lastPass;
    private boolean closed;

    /** Set to "false" to run every node on its own (the plan's fused pairs unfused), for comparisons. */
    static final String FUSE_PROPERTY = "receptive.fuse";

    Workspace(Model model, boolean inference) {
        this(model, inference, !"false".equalsIgnoreCase(System.getProperty(FUSE_PROPERTY, "").trim()));
    }

    Workspace(Model model, boolean inference, boolean fuse) {
        this.model = model;
        this.inference = inference;
        this.backend = model.backend();
        this.nodes = model.nodes();
        int n = nodes.size();
        this.scratch = new Scratch[n];
        this.needsGrad = new boolean[n];
        this.consumers = new int[n];
        for (int i = 0; i < n; i++) {
            scratch[i] = new Scratch(backend);
            Node node = nodes.get(i);
            boolean own = node.layer() != null && !node.layer().parameters().isEmpty();
            for (int in : node.inputIndices()) {
                if (in >= 0) {
                    own |= needsGrad[in];
                    consumers[in]++;
                }
            }
            needsGrad[i] = own;
        }
        this.fusedInto = fuse ? model.reluFusions() : new int[n];
        if (!fuse) {
            Arrays.fill(fusedInto, -1);
        }
        this.fusesRelu = new boolean[n];
        for (int j = 0; j < n; j++) {
            if (fusedInto[j] >= 0) {
                fusesRelu[fusedInto[j]] = true;
            }
        }
        this.tailOf = fuse ? model.addReluFusions() : new int[n];
        if (!fuse) {
            Arrays.fill(tailOf, -1);
        }
        this.tailAt = new int[n];
        Arrays.fill(tailAt, -1);
        this.tailLayer = new boolean[n];
        for (int j = 0; j < n; j++) {
            if (tailOf[j] >= 0) {
                tailAt[nodes.get(j).inputIndices()[0]] = tailOf[j];
                tailLayer[tailOf[j]] = true;
            }
        }
    }

    /** The node whose output tensor node i's output is (a fused ReLU's or residual tail's), or −1 for its own. */
    private int aliasOf(int i) {
        return fusedInto[i] >= 0 ? fusedInto[i] : tailOf[i] >= 0 ? tailOf[i] : tailAt[i];
    }

    /** The input of add node a that is not the fused layer b: the residual tail's shortcut. */
    private int shortcutOf(int a, int b) {
        int[] in = nodes.get(a).inputIndices();
        return in[0] == b ? in[1] : in[0];
    }

    /** {@return whether this workspace runs evaluation passes only, without gradient tensors} */
    public boolean inferenceOnly() {
        return inference;
    }

    /** {@return the model this workspace runs} */
    public Model model() {
        return model;
    }

    /**
     * y = model(x). x: (N, inputShape...) on the model's backend; returns y: (N, outputShape...),
     * owned by this workspace and valid until the next forward here. x must stay unchanged until
     * {@link #backward} when one follows.
     *
     * @param x input (N, inputShape...) on the model's backend, owned by the caller
     * @param pass {@link Pass#train} or {@link Pass#EVAL}, not null
     * @return y (N, outputShape...), owned by this workspace (do not close it)
     * @throws IllegalArgumentException when x is not a batch of the model's input shape, or pass is
     *     null or a training pass in an inference workspace
     * @throws IllegalStateException when the model is closed or another thread is inside this workspace
     */
    public Tensor forward(Tensor x, Pass pass) {
        enter();
        try {
            return run(x, pass);
        } finally {
            exit();
        }
    }

    /**
     * As {@link #forward(Tensor, Pass)} for a batch given on the host: {@code batch} holds N whole
     * items of the input shape, which are copied into a tensor of this workspace.
     *
     * @param batch N ≥ 1 items one after another, N · inputShape().size() values
     * @param pass {@link Pass#train} or {@link Pass#EVAL}, not null
     * @return y (N, outputShape...), owned by this workspace (do not close it)
     * @throws IllegalArgumentException when the values are not whole items, or pass is null or a
     *     training pass in an inference workspace
     * @throws IllegalStateException when the model is closed or another thread is inside this workspace
     */
    public Tensor forward(float[] batch, Pass pass) {
        int item = model.inputShape().size();
        if (batch.length == 0 || batch.length % item != 0) {
            throw new IllegalArgumentException("model: " + batch.length + " values are not whole items of "
                    + model.inputShape() + " (" + item + " values each)");
        }
        enter();
        try {
            model.checkOpen();
            int n = batch.length / item;
            if (input == null || input.shape().dim(0) != n) {
                if (input != null) {
                    input.close();
                    input = null;
                }
                input = backend.allocate(Model.batched(n, model.inputShape()));
            }
            backend.upload(input, batch);
            return run(input, pass);
        } finally {
            exit();
        }
    }

    private Tensor run(Tensor x, Pass pass) {
        model.checkOpen();
        if (pass == null) {
            throw new IllegalArgumentException("model: pass must be Pass.train(step) or Pass.EVAL, not null");
        }
        if (inference && pass.training()) {
            throw new IllegalArgumentException("model: an inference workspace runs Pass.EVAL only, not " + pass
                    + "; train in a workspace from Model.newWorkspace()");
        }
        Shape s = x.shape();
        if (!isBatchOf(s, model.inputShape())) {
            throw new IllegalArgumentException("model: expected input " + ModelPlan.batchedString(model.inputShape())
                    + " but got " + s);
        }
        prepare(s.dim(0));
        lastPass = null; // a failure below leaves nothing for backward to use
        for (int i = 0; i < nodes.size(); i++) {
            Node node = nodes.get(i);
            int[] in = node.inputIndices();
            if (fusedInto[i] >= 0 || tailOf[i] >= 0 || tailLayer[i]) {
                continue; // a fused op writes out[i]: its producer's, or the residual tail's at the add
            } else if (tailAt[i] >= 0) {
                int b = tailAt[i];
                nodes.get(b).layer().forwardAddRelu(out[i], value(nodes.get(b).inputIndices()[0], x),
                        value(shortcutOf(i, b), x), pass, scratch[b]);
            } else if (fusesRelu[i]) {
                node.layer().forwardRelu(out[i], value(in[0], x), pass, scratch[i]);
            } else if (node.layer() != null) {
                node.layer().forward(out[i], value(in[0], x), pass, scratch[i]);
            } else {
                List<Tensor> xs = new ArrayList<>(in.length);
                for (int k : in) {
                    xs.add(value(k, x));
                }
                node.merge().forward(backend, out[i], xs);
            }
        }
        lastInput = x;
        lastPass = pass;
        return out[nodes.size() - 1];
    }

    /**
     * Backpropagates dOutput = ∂L/∂y of the last forward pass here, adding each parameter's
     * gradient into its {@link Parameter#grad()} (clear them first with {@link Model#zeroGrad()}).
     *
     * @param dOutput ∂L/∂y (N, outputShape...), the shape of the last forward's output, such as
     *     {@code Loss.gradient()}
     * @throws IllegalArgumentException when dOutput's shape is not the output's
     * @throws IllegalStateException in an inference workspace, before any forward pass, or while
     *     another backward pass runs on the same model
     */
    public void backward(Tensor dOutput) {
        enter();
        try {
            model.checkOpen();
            if (inference) {
                throw new IllegalStateException("model: an inference workspace has no gradients; backward needs a"
                        + " workspace from Model.newWorkspace()");
            }
            if (lastPass == null) {
                throw new IllegalStateException("model: backward called before forward in this workspace");
            }
            int last = nodes.size() - 1;
            if (!dOutput.shape().equals(out[last].shape())) {
                throw new IllegalArgumentException("model: expected output gradient " + out[last].shape() + " but got "
                        + dOutput.shape());
            }
            model.beginBackward();
            try {
                Arrays.fill(written, false);
                for (int i = last; i >= 0; i--) {
                    if (!needsGrad[i] || (i != last && !written[i])) {
                        continue; // no parameter upstream, or nothing downstream needed this gradient
                    }
                    Tensor dy = i == last ? dOutput : grad[i];
                    if (fusedInto[i] >= 0) {
                        // The pair's one backward op: the producer's gradient tensor takes dz.
                        backwardNode(fusedInto[i], grad[fusedInto[i]], dy);
                    } else if (tailOf[i] >= 0) {
                        backwardTail(tailOf[i], nodes.get(i).inputIndices()[0], dy);
                    } else {
                        backwardNode(i, dy, null);
                    }
                }
            } finally {
                model.endBackward();
            }
        } finally {
            exit();
        }
    }

    /** Node i's backward call; with reluDy, the fused one of node i and its ReLU, whose output gradient it is. */
    private void backwardNode(int i, Tensor dy, Tensor reluDy) {
        Node node = nodes.get(i);
        int[] in = node.inputIndices();
        Tensor[] dxs = new Tensor[in.length];
        boolean[] viaSpare = new boolean[in.length];
        for (int k = 0; k < in.length; k++) {
            int j = in[k];
            if (j < 0 || !needsGrad[j]) {
                continue;
            }
            // The first contribution to a node's gradient is written in place; later ones (a node
            // read by several nodes, or twice by one) go to a spare tensor of their own and are added.
            boolean taken = written[j];
            for (int m = 0; m < k; m++) {
                taken |= in[m] == j && dxs[m] != null;
            }
            viaSpare[k] = taken;
            dxs[k] = taken ? spare(i, k, j) : grad[j];
        }
        if (reluDy != null) {
            node.layer().backwardRelu(dxs[0], dy, reluDy, value(in[0], lastInput), out[i], lastPass, scratch[i]);
        } else if (node.layer() != null) {
            node.layer().backward(dxs[0], dy, value(in[0], lastInput), out[i], lastPass, scratch[i]);
        } else {
            node.merge().backward(backend, Arrays.asList(dxs), dy, node.inputShapes());
        }
        for (int k = 0; k < in.length; k++) {
            if (dxs[k] == null) {
                continue;
            }
            int j = in[k];
            if (viaSpare[k]) {
                backend.add(grad[j], grad[j], dxs[k]);
            }
            written[j] = true;
        }
    }

    /**
     * The backward call of a residual tail: layer b's with the ReLU (dz = dy · [y &gt; 0] into b's
     * gradient tensor, then b's own), then dz to the add's other input, which is the shortcut's
     * gradient because the add passes its gradient through unchanged.
     */
    private void backwardTail(int b, int add, Tensor dy) {
        Tensor dz = grad[b];
        backwardNode(b, dz, dy);
        int s = shortcutOf(add, b);
        if (s >= 0 && needsGrad[s]) {
            if (written[s]) {
                backend.add(grad[s], grad[s], dz);
            } else {
                backend.copy(grad[s], dz);
            }
            written[s] = true;
        }
    }

    /** The spare gradient tensor of input k of node i, which reads node j. */
    private Tensor spare(int i, int k, int j) {
        if (spare[i] == null) {
            spare[i] = new Tensor[nodes.get(i).inputIndices().length];
        }
        if (spare[i][k] == null) {
            spare[i][k] = backend.allocate(out[j].shape());
        }
        return spare[i][k];
    }

    private Tensor value(int index, Tensor x) {
        return index < 0 ? x : out[index];
    }

    /** Makes the activation and gradient tensors for batch size n, unless they are there. */
    private void prepare(int n) {
        if (n == batch) {
            return;
        }
        release();
        int count = nodes.size();
        out = new Tensor[count];
        grad = new Tensor[count];
        spare = new Tensor[count][];
        written = new boolean[count];
        batch = n;
        for (int i = 0; i < count; i++) {
            // A fused ReLU's output is its producer's, a residual tail's add's and ReLU's the layer's
            // (nodes come after their inputs); no one writes the gradient of a fused add.
            int alias = aliasOf(i);
            out[i] = alias >= 0 ? out[alias] : backend.allocate(Model.batched(n, nodes.get(i).outputShape()));
            if (!inference && needsGrad[i] && i < count - 1 && consumers[i] > 0 && tailAt[i] < 0) {
                grad[i] = backend.allocate(out[i].shape());
            }
        }
    }

    /**
     * The bytes of an inference workspace's tensors at batch size n: the input and every node's
     * output (what {@link #prepare} and the host-batch forward allocate without gradients).
     */
    static long inferenceBytes(Model model, int n) {
        long values = model.inputShape().size();
        for (Node node : model.nodes()) {
            values += node.outputShape().size();
        }
        return values * n * Float.BYTES;
    }

    private void release() {
        if (spare != null) {
            for (Tensor[] edges : spare) {
                closeAll(edges);
            }
        }
        closeAll(grad);
        if (out != null) {
            for (int i = 0; i < out.length; i++) {
                if (aliasOf(i) >= 0) {
                    out[i] = null; // another node's, closed with it
                }
            }
        }
        closeAll(out);
        spare = null;
        grad = null;
        out = null;
        batch = -1;
        lastPass = null;
        lastInput = null;
    }

    private static void closeAll(Tensor[] group) {
        if (group == null) {
            return;
        }
        for (int i = group.length - 1; i >= 0; i--) {
            if (group[i] != null) {
                group[i].close();
                group[i] = null;
            }
        }
    }

    private void enter() {
        Thread me = Thread.currentThread();
        if (!user.compareAndSet(null, me)) {
            Thread other = user.get();
            throw new IllegalStateException("workspace: already in use by thread '" + (other == null ? "?" : other.getName())
                    + "'; a workspace belongs to one thread at a time (use one per thread, or the model's predictor)");
        }
        if (closed) {
            user.set(null);
            throw new IllegalStateException("workspace: it is closed");
        }
    }

    private void exit() {
        user.set(null);
    }

    /** Frees every tensor of this workspace. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        enter();
        try {
            closed = true;
            release();
            if (input != null) {
                input.close();
                input = null;
            }
            for (Scratch s : scratch) {
                s.close();
            }
        } finally {
            exit();
        }
    }

    private static boolean isBatchOf(Shape s, Shape item) {
        if (s.rank() != item.rank() + 1) {
            return false;
        }
        for (int i = 0; i < item.rank(); i++) {
            if (s.dim(i + 1) != item.dim(i)) {
                return false;
            }
        }
        return true;
    }
}
