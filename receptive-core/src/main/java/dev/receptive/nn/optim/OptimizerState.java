package dev.receptive.nn.optim;

import dev.receptive.nn.HostTensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An optimizer's state for a checkpoint: the number of steps taken and, per parameter name, its
 * state tensors by slot ("velocity" for SGD with momentum; "m" and "v" for Adam), like the
 * "state" of PyTorch's optimizer state_dict. Hyper-parameters are not part of it.
 *
 * @param step the number of steps taken, ≥ 0
 * @param slots per parameter name, its state tensors by slot name; empty for a fresh optimizer
 */
public record OptimizerState(int step, Map<String, Map<String, HostTensor>> slots) {

    /**
     * Checks the step and takes an unmodifiable copy of the maps (the tensors themselves are not copied).
     *
     * @param step the number of steps taken, ≥ 0
     * @param slots per parameter name, its state tensors by slot name
     * @throws IllegalArgumentException when step &lt; 0
     */
    public OptimizerState {
        if (step < 0) {
            throw new IllegalArgumentException("OptimizerState: step must be >= 0, got " + step);
        }
        Map<String, Map<String, HostTensor>> copy = new LinkedHashMap<>();
        slots.forEach((name, bySlot) -> copy.put(name, Collections.unmodifiableMap(new LinkedHashMap<>(bySlot))));
        slots = Collections.unmodifiableMap(copy);
    }
}
