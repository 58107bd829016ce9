package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.backend.BackendCapabilities;
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
 * refused). A training step holds the model ({@link #beginTraining()}) from its start to its
 * close; while it does, the predictor refuses to predict, so no answer mixes old and new weights.
 * Updating weights by other means ({@link #loadStateDict}, an optimizer outside a training step)
 * while other threads run forward passes is not supported. {@link #close()} must come after every
 * other use.
 */
public final class Model implements AutoCloseable {
    /** The name by which nodes read the model's input. */
    public static final String INPUT = "input";

    private final Backend backend;
    private final ModelPlan plan;
    private final AtomicReference<Thread> backwardBy = new AtomicReference<>();
    /** Guards {@link #trainers} and {@link #predictions}: the predictor never reads weights a trainer writes. */
    private final Object holds = new Object();
    private int trainers;
    private int predictions;
    private volatile ModelInfo info = ModelInfo.NONE;
    private volatile Predictor predictor;
    private volatile boolean closed;

    private Model(ModelPlan plan, Backend backend) {
        this.backend = backend;
        this.plan = plan;
    }

    /**
     * Rebuilds a model from {@link #architecture()} on {@code backend}, with fresh weights from
     * its seed: {@code ModelDescription.of(json).place(backend)}.
     *
     * @param json what {@link #architecture()} wrote
     * @param backend where the tensors go
     * @return the new model; the caller owns it and closes it
     * @throws IllegalArgumentException naming the field or node that is wrong
     * @throws ModelTooLargeException when the model does not fit the backend's free memory
     */
    public static Model fromArchitecture(String json, Backend backend) {
        return ModelDescription.of(json).place(backend);
    }

    /**
     * Rebuilds a model from {@link #architecture()} on {@code backend} with the parameters and
     * buffers of {@code state}, every name and shape checked before anything is allocated (so a
     * file that does not fit its architecture costs no memory):
     * {@code ModelDescription.of(json, state, ModelInfo.NONE).place(backend)}.
     *
     * @param json what {@link #architecture()} wrote
     * @param backend where the tensors go
     * @param state exactly the model's entries by state-dict name, as {@link #stateDict()} returns them
     * @return the new model; the caller owns it and closes it
     * @throws IllegalArgumentException naming the field, node or state entry that is wrong
     * @throws ModelTooLargeException when the model does not fit the backend's free memory
     */
    public static Model fromArchitecture(String json, Backend backend, Map<String, HostTensor> state) {
        return ModelDescription.of(json, state, ModelInfo.NONE).place(backend);
    }

    // ---- building -----------------------------------------------------------------------

    /** Plans the builders' graph and places it with weights drawn from the seed. */
    static Model build(Shape input, List<Graph.Spec> specs, String output, long seed, Backend backend, String who) {
        if (backend == null) {
            throw new IllegalArgumentException(who + ": backend must not be null");
        }
        return place(ModelPlan.of(input, specs, output, seed, who), backend, null, who);
    }

    /**
     * Makes the plan's tensors on {@code backend}: from {@code values} (by state-dict name, every
     * name and shape checked before anything is allocated) or, when null, initialized from the seed.
     */
    static Model place(ModelPlan plan, Backend backend, Map<String, HostTensor> values, String who) {
        if (backend == null) {
            throw new IllegalArgumentException(who + ": backend must not be null");
        }
        if (values != null) {
            plan.checkState(values, "");
        }
        Model model = new Model(plan, backend);
        model.checkMemory(who, values == null);
        model.allocate(who, values);
        return model;
    }

    /**
     * Refuses a model whose parameters, gradients and buffers cannot fit the backend's free memory,
     * before anything is allocated (a few bytes of architecture JSON can declare billions of
     * weights). A fresh model also holds, for a moment, the host array its largest parameter's
     * initial values are drawn into: on the Java heap, which is the backend's memory only when
     * the backend keeps its tensors there.
     */
    private void checkMemory(String who, boolean fresh) {
        boolean heap = backend.capabilities().memory() == BackendCapabilities.Memory.JAVA_HEAP;
        long free = backend.freeMemory();
        long bytes = plan.placementBytes() + (fresh && heap ? plan.largestDrawnBytes() : 0);
        if (bytes > free) {
            throw new ModelTooLargeException(who + ": the model's " + plan.parameterCount() + " parameters need "
                    + (bytes >> 20) + " MB with their gradients, but " + (heap ? "the Java heap" : backend.name())
                    + " has " + (free >> 20) + " MB free" + (heap ? "; give the JVM more with -Xmx" : ""), null);
        }
    }

    private void allocate(String who, Map<String, HostTensor> values) {
        try {
            for (Node n : plan.nodes()) {
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
        init.initialize(values, p.fanIn(), p.fanOut(),
                new SplittableRandom(mix(plan.seed() ^ mix(p.name().hashCode()))));
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
        return new Workspace(this, false);
    }

    /**
     * {@return a new workspace for evaluation passes only, without the gradient tensors a training workspace
     * keeps; the caller closes it}
     *
     * @throws IllegalStateException when the model is closed
     */
    public Workspace newInferenceWorkspace() {
        checkOpen();
        return new Workspace(this, true);
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
     * @throws IllegalStateException when the model is closed or held for training, or its output is not a number
     */
    public float[] predict(float[] item) {
        return predictor().probabilities(item);
    }

    /**
     * Marks the model as being trained until a matching {@link #endTraining()}: from then on its
     * {@link #predictor()} refuses to predict, because the weights and batch-norm statistics are
     * about to change under it. Waits for predictions already running to finish first, so none
     * of them reads a half-updated model. {@code TrainingStep} calls this when it is made and
     * {@link #endTraining()} when it is closed; a hand-written training loop may do the same.
     * Holds nest: the model is free again when every one has ended.
     *
     * @throws IllegalStateException when the model is closed, or the thread is interrupted while
     *     waiting (the hold is then not taken)
     */
    public void beginTraining() {
        synchronized (holds) {
            checkOpen();
            trainers++;
            try {
                while (predictions > 0) {
                    holds.wait();
                }
            } catch (InterruptedException e) {
                trainers--;
                holds.notifyAll();
                Thread.currentThread().interrupt();
                throw new IllegalStateException("model: interrupted while waiting for running predictions to finish"
                        + " before training", e);
            }
        }
    }

    /**
     * Ends one hold of {@link #beginTraining()}; the predictor predicts again once none is left.
     *
     * @throws IllegalStateException when no hold is taken
     */
    public void endTraining() {
        synchronized (holds) {
            if (trainers == 0) {
                throw new IllegalStateException("model: endTraining without beginTraining");
            }
            trainers--;
        }
    }

    /** {@return whether a training hold ({@link #beginTraining()}) is taken} */
    public boolean inTraining() {
        synchronized (holds) {
            return trainers > 0;
        }
    }

    /** Counts a prediction in; refused while the model is held for training. */
    void beginPrediction() {
        synchronized (holds) {
            if (trainers > 0) {
                throw new IllegalStateException("model: the model is being trained (a training step holds it), so its"
                        + " weights are changing; predict after the training step is closed, or on a copy made with"
                        + " describe().place(backend)");
            }
            predictions++;
        }
    }

    void endPrediction() {
        synchronized (holds) {
            predictions--;
            if (predictions == 0) {
                holds.notifyAll();
            }
        }
    }

    /** Sets every parameter's gradient to zero; backward passes then add into them. */
    public void zeroGrad() {
        checkOpen();
        for (Parameter p : plan.parameters()) {
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
        return plan.nodes();
    }

    /** {@return the plan's fused pairs: for each node, the producer whose ReLU it is when they run as one op, or −1} */
    int[] reluFusions() {
        return plan.reluFusions();
    }

    /** {@return the plan's fused residual tails: for each ReLU node, the layer it runs fused with through an add, or −1} */
    int[] addReluFusions() {
        return plan.addReluFusions();
    }

    /** {@return the layers in node order, merges left out (an unmodifiable copy)} */
    public List<Layer> layers() {
        List<Layer> layers = new ArrayList<>();
        for (Node n : plan.nodes()) {
            if (n.layer() != null) {
                layers.add(n.layer());
            }
        }
        return Collections.unmodifiableList(layers);
    }

    /** {@return whether the model is a plain chain named "0", "1", … (what {@link Sequential} builds)} */
    public boolean isSequential() {
        return plan.isChain();
    }

    /** {@return every parameter, in node order: the order of the state dict (unmodifiable)} */
    public List<Parameter> parameters() {
        return plan.parameters();
    }

    /**
     * {@return every buffer, in node order (unmodifiable); the state dict lists them after the parameters of their
     * layer's node}
     */
    public List<Buffer> buffers() {
        return plan.buffers();
    }

    /** {@return the item input shape, without the batch dimension, e.g. (1, 28, 28)} */
    public Shape inputShape() {
        return plan.inputShape();
    }

    /** {@return the item output shape, without the batch dimension, e.g. (10)} */
    public Shape outputShape() {
        return plan.outputShape();
    }

    /** {@return the seed of parameter init and dropout masks} */
    public long seed() {
        return plan.seed();
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
        ModelDescription.checkInfo(info, outputShape());
        this.info = info;
    }

    /** {@return the number of trainable values, summed over every parameter} */
    public long parameterCount() {
        return plan.parameterCount();
    }

    /** {@return a table of nodes, output shapes and parameter counts, like torchsummary or Keras, one node a line} */
    public String summary() {
        return plan.summary();
    }

    /**
     * {@return the architecture as JSON (input shape, seed, each node's type, settings and inputs), without weights;
     * see {@link #fromArchitecture}}
     */
    public String architecture() {
        return Architecture.toJson(plan);
    }

    /**
     * This model without its backend: the architecture, a host copy of every parameter and buffer,
     * and the info. Later changes to the model are not seen.
     *
     * @return the description
     * @throws IllegalStateException when the model is closed
     */
    public ModelDescription describe() {
        return ModelDescription.of(architecture(), stateDict(), info);
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
        for (Node n : plan.nodes()) {
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
        plan.checkState(state, "loadStateDict: ");
        for (Parameter p : plan.parameters()) {
            backend.upload(p.value(), state.get(p.name()).data());
        }
        for (Buffer b : plan.buffers()) {
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
        List<Node> nodes = plan.nodes();
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
}
