package dev.receptive.nn.optim;

import dev.receptive.backend.Backend;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Parameter;
import dev.receptive.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their gradients with one Backend op per parameter. The optimizer owns
 * its per-parameter state tensors (created at zero on a parameter's first step, keyed by the
 * parameter's name) and closes them in {@link #close()}.
 * <pre>
 * try (Optimizer opt = Optimizer.adam(1e-3).build()) {
 *     opt.step(model.parameters());
 * }
 * </pre>
 */
public abstract class Optimizer implements AutoCloseable {
    private float lr;
    private int step;
    private final Map<String, Tensor[]> state = new LinkedHashMap<>();
    private boolean closed;

    Optimizer(double lr) {
        setLearningRate(lr);
    }

    /**
     * SGD, PyTorch semantics; momentum, Nesterov and weight decay are options.
     *
     * @param lr the learning rate, finite and ≥ 0, checked by {@link Sgd.Builder#build()}
     * @return a builder; its {@code build()} makes the optimizer, which the caller closes
     */
    public static Sgd.Builder sgd(double lr) {
        return new Sgd.Builder(lr);
    }

    /**
     * Adam (Kingma and Ba), PyTorch semantics: weight decay, if any, is added to the gradient.
     *
     * @param lr the learning rate, finite and ≥ 0, checked by {@link Adam.Builder#build()}
     * @return a builder; its {@code build()} makes the optimizer, which the caller closes
     */
    public static Adam.Builder adam(double lr) {
        return new Adam.Builder(lr, false);
    }

    /**
     * AdamW (Loshchilov and Hutter): weight decay decoupled from the gradient.
     *
     * @param lr the learning rate, finite and ≥ 0, checked by {@link Adam.Builder#build()}
     * @param weightDecay ≥ 0: each step first scales w by (1 − lr·weightDecay)
     * @return a builder; its {@code build()} makes the optimizer, which the caller closes
     */
    public static Adam.Builder adamW(double lr, double weightDecay) {
        return new Adam.Builder(lr, true).weightDecay(weightDecay);
    }

    /**
     * One update of every parameter from its grad; the step count goes up by one first. The gradients are read,
     * not cleared.
     *
     * @param parameters the parameters to update, e.g. {@code model.parameters()}; their state is created at zero
     *     on their first step
     * @throws IllegalArgumentException when a parameter's shape differs from its saved state's
     * @throws IllegalStateException when the optimizer is closed
     */
    public final void step(List<Parameter> parameters) {
        checkOpen();
        step++;
        for (Parameter p : parameters) {
            update(p.value().backend(), p, slotsOf(p), lr, step);
        }
    }

    /** {@return the learning rate of the next step} */
    public final float learningRate() {
        return lr;
    }

    /**
     * Changes the learning rate from the next step on (what a schedule calls each epoch).
     *
     * @param lr the new rate, finite and ≥ 0
     * @throws IllegalArgumentException when lr is negative, infinite or NaN
     */
    public final void setLearningRate(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be finite and >= 0, got " + lr);
        }
        this.lr = (float) lr;
    }

    /** {@return the steps taken so far (restored by {@link #importState})} */
    public final int stepCount() {
        return step;
    }

    /**
     * The optimizer's type and every hyper-parameter except the learning rate, e.g.
     * "Adam(betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0)": what a checkpoint records so a resume
     * with other settings is noticed.
     *
     * @return the class's simple name and its hyper-parameters in parentheses
     */
    public final String describe() {
        return getClass().getSimpleName() + "(" + hyperParameters() + ")";
    }

    /** {@return "name=value, …" of every hyper-parameter but the learning rate} */
    protected abstract String hyperParameters();

    /**
     * {@return the names of the state tensors this optimizer keeps per parameter, in order: ["velocity"], ["m", "v"] or
     * none}
     */
    protected abstract List<String> slotNames();

    /**
     * Updates p.value() in place from p.grad() and its state.
     *
     * @param backend the parameter's backend
     * @param p the parameter
     * @param slots its state tensors in {@link #slotNames()} order, the shape of p, updated in place
     * @param lr the learning rate of this step
     * @param step the step number, counted from 1
     */
    protected abstract void update(Backend backend, Parameter p, Tensor[] slots, float lr, int step);

    /**
     * {@return the step count and every state tensor, copied to the host}
     *
     * @throws IllegalStateException when the optimizer is closed
     */
    public final OptimizerState exportState() {
        checkOpen();
        List<String> names = slotNames();
        Map<String, Map<String, HostTensor>> out = new LinkedHashMap<>();
        state.forEach((param, tensors) -> {
            Map<String, HostTensor> bySlot = new LinkedHashMap<>();
            for (int i = 0; i < tensors.length; i++) {
                bySlot.put(names.get(i), new HostTensor(tensors[i].shape(), tensors[i].toArray()));
            }
            out.put(param, bySlot);
        });
        return new OptimizerState(step, out);
    }

    /**
     * Replaces the state with {@code saved} for {@code parameters}. Everything is checked first
     * (the parameter names, each slot's name and shape), so on a mismatch nothing changes. A
     * state without entries (a fresh optimizer's) is accepted and resets the state.
     *
     * @param saved what {@link #exportState()} returned, e.g. from a checkpoint
     * @param parameters the parameters it belongs to, by name
     * @throws IllegalArgumentException naming the first parameter or slot that does not match
     * @throws IllegalStateException when the optimizer is closed
     */
    public final void importState(OptimizerState saved, List<Parameter> parameters) {
        checkOpen();
        String op = getClass().getSimpleName() + ".importState";
        Map<String, Map<String, HostTensor>> slots = saved.slots();
        if (!slots.isEmpty()) {
            for (Parameter p : parameters) {
                Map<String, HostTensor> bySlot = slots.get(p.name());
                if (bySlot == null) {
                    throw new IllegalArgumentException(op + ": no state for parameter " + p.name());
                }
                if (!bySlot.keySet().equals(new LinkedHashSet<>(slotNames()))) {
                    throw new IllegalArgumentException(op + ": parameter " + p.name() + " expected slots "
                            + slotNames() + " but got " + bySlot.keySet());
                }
                for (Map.Entry<String, HostTensor> e : bySlot.entrySet()) {
                    if (!e.getValue().shape().equals(p.shape())) {
                        throw new IllegalArgumentException(op + ": " + p.name() + " slot " + e.getKey()
                                + " expected shape " + p.shape() + " but got " + e.getValue().shape());
                    }
                }
            }
            if (slots.size() != parameters.size()) {
                for (String name : slots.keySet()) {
                    if (parameters.stream().noneMatch(p -> p.name().equals(name))) {
                        throw new IllegalArgumentException(op + ": state for unknown parameter " + name);
                    }
                }
            }
        }
        releaseState();
        List<String> names = slotNames();
        for (Parameter p : parameters) {
            Map<String, HostTensor> bySlot = slots.get(p.name());
            if (bySlot == null) {
                continue;
            }
            Tensor[] tensors = new Tensor[names.size()];
            state.put(p.name(), tensors);
            for (int i = 0; i < tensors.length; i++) {
                tensors[i] = p.value().backend().upload(bySlot.get(names.get(i)).data(), p.shape());
            }
        }
        step = saved.step();
    }

    private Tensor[] slotsOf(Parameter p) {
        Tensor[] slots = state.get(p.name());
        if (slots == null) {
            slots = new Tensor[slotNames().size()];
            state.put(p.name(), slots);
            for (int i = 0; i < slots.length; i++) {
                slots[i] = p.value().backend().allocate(p.shape());
            }
        } else if (slots.length > 0 && !slots[0].shape().equals(p.shape())) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter " + p.name() + " has shape "
                    + p.shape() + " but its optimizer state has " + slots[0].shape());
        }
        return slots;
    }

    private void releaseState() {
        for (Tensor[] tensors : state.values()) {
            for (int i = tensors.length - 1; i >= 0; i--) {
                if (tensors[i] != null) {
                    tensors[i].close();
                }
            }
        }
        state.clear();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(getClass().getSimpleName() + ": the optimizer is closed");
        }
    }

    /** Closes every state tensor. */
    @Override
    public final void close() {
        closed = true;
        releaseState();
    }
}
