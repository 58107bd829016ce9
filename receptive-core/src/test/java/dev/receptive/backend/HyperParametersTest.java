package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.receptive.nn.optim.Optimizer;
import org.junit.jupiter.api.Test;

/** Bad optimizer hyper-parameters are refused with the values the caller passed. */
class HyperParametersTest {

    @Test
    void adamNamesTheBadLearningRate() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Optimizer.adam(-1).build());
        assertEquals("adam: learning rate must be >= 0, got -1.0", e.getMessage());
    }

    @Test
    void adamNamesBothBetas() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Optimizer.adam(1e-3).betas(0.9, 1.5).build());
        assertEquals("adam: betas must be in [0, 1), got (0.9, 1.5)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Optimizer.adamW(1e-3, 0.01).betas(-0.5, 0.999).build());
        assertEquals("adamW: betas must be in [0, 1), got (-0.5, 0.999)", e.getMessage());
    }

    @Test
    void adamNamesEpsWeightDecayAndStep() {
        assertEquals("adam: eps must be > 0, got 0.0", assertThrows(IllegalArgumentException.class,
                () -> Optimizer.adam(1e-3).eps(0).build()).getMessage());
        assertEquals("adamW: weight decay must be >= 0, got -0.25", assertThrows(IllegalArgumentException.class,
                () -> Optimizer.adamW(1e-3, -0.25).build()).getMessage());
        assertEquals("adam: step must be >= 1 (steps count from 1), got 0", assertThrows(IllegalArgumentException.class,
                () -> new AdamParams(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false, 0)).getMessage());
    }

    @Test
    void sgdNamesItsValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Optimizer.sgd(0.1).momentum(-0.5).build());
        assertEquals("sgd: learning rate, momentum and weight decay must be >= 0, got lr 0.1, momentum -0.5, "
                + "weight decay 0.0", e.getMessage());
    }
}
