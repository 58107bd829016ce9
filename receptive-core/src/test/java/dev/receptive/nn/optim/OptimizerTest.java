package dev.receptive.nn.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Parameter;
import dev.receptive.nn.TestParameters;
import dev.receptive.tensor.Shape;
import dev.receptive.testing.Close;
import dev.receptive.testing.TestBackends;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two steps of each optimizer on w = [1, −2] with gradients [0.5, 0.25] then [−1, 0.5], against
 * values worked out by hand from PyTorch's formulas. The update runs in float32 through a few
 * operations: atol/rtol 1e-6 allow a few ulps.
 */
class OptimizerTest {
    private static final float[] W0 = {1, -2};
    private static final float[][] GRADS = {{0.5f, 0.25f}, {-1, 0.5f}};
    private final Backend backend = TestBackends.cpu(1);
    private final List<Parameter> made = new ArrayList<>();

    @AfterEach
    void close() {
        for (Parameter p : made) {
            p.value().close();
            p.grad().close();
        }
        backend.close();
    }

    private Parameter param(String name, float... values) {
        Parameter p = TestParameters.of(name, backend.upload(values, Shape.of(values.length)),
                backend.allocate(Shape.of(values.length)));
        made.add(p);
        return p;
    }

    /** Runs the two steps, returning w after each. */
    private float[][] twoSteps(Optimizer opt) {
        Parameter w = param("0.weight", W0);
        float[][] after = new float[2][];
        for (int s = 0; s < 2; s++) {
            backend.upload(w.grad(), GRADS[s]);
            opt.step(List.of(w));
            after[s] = w.value().toArray();
        }
        assertEquals(2, opt.stepCount());
        return after;
    }

    @Test
    void sgdWithNesterovMomentumAndWeightDecay() {
        try (Optimizer opt = Optimizer.sgd(0.1).momentum(0.9).nesterov(true).weightDecay(0.01).build()) {
            float[][] w = twoSteps(opt);
            // step 1: g = dw + 0.01·w = [0.51, 0.23]; v = g; w −= 0.1·(g + 0.9·v) = 0.1·[0.969, 0.437]
            Close.assertClose("step 1", new double[] {0.9031, -2.0437}, w[0], 1e-6, 1e-6);
            // step 2: g = [−0.990969, 0.479563]; v = 0.9·v + g = [−0.531969, 0.686563];
            //         g + 0.9·v = [−1.4697411, 1.0974697]
            Close.assertClose("step 2", new double[] {1.05007411, -2.15344697}, w[1], 1e-6, 1e-6);
        }
    }

    @Test
    void plainSgdNeedsNoState() {
        try (Optimizer opt = Optimizer.sgd(0.5).build()) {
            float[][] w = twoSteps(opt);
            // w − 0.5·0.5, − 0.5·0.25; then + 0.5·1, − 0.5·0.5
            Close.assertClose("step 2", new double[] {1.25, -2.375}, w[1], 1e-6, 1e-6);
            assertTrue(opt.exportState().slots().get("0.weight").isEmpty());
        }
    }

    @Test
    void adam() {
        try (Optimizer opt = Optimizer.adam(0.1).build()) {
            float[][] w = twoSteps(opt);
            // step 1: m̂ = g, v̂ = g², so w −= 0.1·g/(|g| + 1e-8): a step of 0.1 against the gradient's sign
            Close.assertClose("step 1", new double[] {0.9, -2.1}, w[0], 1e-6, 1e-6);
            // step 2: m = [−0.055, 0.0725], v = [0.00124975, 0.0003124375];
            //         m̂ = m/0.19, v̂ = v/0.001999; w −= 0.1·m̂/(√v̂ + 1e-8)
            Close.assertClose("step 2", new double[] {0.93661035, -2.19651820}, w[1], 1e-6, 1e-6);
        }
    }

    @Test
    void adamWithL2WeightDecayAddsItToTheGradient() {
        try (Optimizer opt = Optimizer.adam(0.1).weightDecay(0.1).build()) {
            float[][] w = twoSteps(opt);
            // g1 = [0.5 + 0.1, 0.25 − 0.2] = [0.6, 0.05]: still a step of 0.1 per sign
            Close.assertClose("step 1", new double[] {0.9, -2.1}, w[0], 1e-6, 1e-6);
            // g2 = [−1 + 0.09, 0.5 − 0.21] = [−0.91, 0.29]; m = [−0.037, 0.0335], v = [0.00118774, 0.0000865975]
            Close.assertClose("step 2", new double[] {0.92526352, -2.18471197}, w[1], 1e-6, 1e-6);
        }
    }

    @Test
    void adamWDecaysTheWeightsApartFromTheGradient() {
        try (Optimizer opt = Optimizer.adamW(0.1, 0.1).build()) {
            float[][] w = twoSteps(opt);
            // step 1: w·(1 − 0.1·0.1) = [0.99, −1.98], then the Adam step of 0.1
            Close.assertClose("step 1", new double[] {0.89, -2.08}, w[0], 1e-6, 1e-6);
            // step 2: w·0.99 = [0.8811, −2.0592], then the same Adam step as plain Adam's step 2
            Close.assertClose("step 2", new double[] {0.91771035, -2.15571820}, w[1], 1e-6, 1e-6);
        }
    }

    @Test
    void theLearningRateCanChangeBetweenSteps() {
        try (Optimizer opt = Optimizer.sgd(1).build()) {
            Parameter w = param("w", 1);
            backend.upload(w.grad(), new float[] {1});
            opt.setLearningRate(0.25);
            assertEquals(0.25f, opt.learningRate());
            opt.step(List.of(w));
            Close.assertClose("w", new double[] {0.75}, w.value().toArray(), 0, 0);
            assertThrows(IllegalArgumentException.class, () -> opt.setLearningRate(-1));
            assertThrows(IllegalArgumentException.class, () -> opt.setLearningRate(Double.NaN));
        }
    }

    @Test
    void buildersValidate() {
        assertThrows(IllegalArgumentException.class, () -> Optimizer.sgd(0.1).nesterov(true).build());
        assertThrows(IllegalArgumentException.class, () -> Optimizer.sgd(-0.1).build());
        assertThrows(IllegalArgumentException.class, () -> Optimizer.adam(0.1).betas(1, 0.999).build());
        assertThrows(IllegalArgumentException.class, () -> Optimizer.adam(0.1).eps(0).build());
        assertThrows(IllegalArgumentException.class, () -> Optimizer.adamW(0.1, -1).build());
    }

    @Test
    void exportedStateResumesExactly() {
        try (Optimizer a = Optimizer.adam(0.1).build(); Optimizer b = Optimizer.adam(0.1).build()) {
            Parameter wa = param("0.weight", W0);
            Parameter wb = param("0.weight", W0);
            backend.upload(wa.grad(), GRADS[0]);
            a.step(List.of(wa));
            OptimizerState state = a.exportState();
            assertEquals(1, state.step());
            assertEquals(List.of("m", "v"), List.copyOf(state.slots().get("0.weight").keySet()));
            Close.assertClose("m", new double[] {0.05, 0.025}, state.slots().get("0.weight").get("m").data(), 1e-7, 1e-6);

            backend.upload(wb.value(), wa.value().toArray());
            b.importState(state, List.of(wb));
            assertEquals(1, b.stepCount());
            backend.upload(wa.grad(), GRADS[1]);
            backend.upload(wb.grad(), GRADS[1]);
            a.step(List.of(wa));
            b.step(List.of(wb));
            Close.assertClose("resumed", wa.value().toArray(), wb.value().toArray(), 0, 0);
        }
    }

    private static OptimizerState withSlot(OptimizerState s, String param, String slot, HostTensor t) {
        Map<String, Map<String, HostTensor>> slots = new LinkedHashMap<>();
        s.slots().forEach((k, v) -> slots.put(k, new LinkedHashMap<>(v)));
        slots.get(param).put(slot, t);
        return new OptimizerState(s.step(), slots);
    }

    @Test
    void importChecksEverythingBeforeChangingAnything() {
        try (Optimizer opt = Optimizer.sgd(0.1).momentum(0.9).build();
                Optimizer adam = Optimizer.adam(0.1).build()) {
            Parameter w = param("0.weight", W0);
            Parameter b = param("0.bias", 0.5f);
            backend.upload(w.grad(), GRADS[0]);
            backend.upload(b.grad(), new float[] {1});
            opt.step(List.of(w, b));
            OptimizerState good = opt.exportState();

            OptimizerState badShape = withSlot(good, "0.bias", "velocity", new HostTensor(Shape.of(2), new float[2]));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> opt.importState(badShape, List.of(w, b)));
            assertEquals("Sgd.importState: 0.bias slot velocity expected shape (1,) but got (2,)", e.getMessage());
            OptimizerState unchanged = opt.exportState();
            assertEquals(1, unchanged.step());
            Close.assertClose("velocity kept", good.slots().get("0.weight").get("velocity").data(),
                    unchanged.slots().get("0.weight").get("velocity").data(), 0, 0);

            e = assertThrows(IllegalArgumentException.class, () -> adam.importState(good, List.of(w, b)));
            assertTrue(e.getMessage().contains("expected slots [m, v] but got [velocity]"), e.getMessage());
            assertEquals(0, adam.stepCount());

            Parameter other = param("1.weight", W0);
            e = assertThrows(IllegalArgumentException.class, () -> opt.importState(good, List.of(w, other)));
            assertEquals("Sgd.importState: no state for parameter 1.weight", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> opt.importState(good, List.of(w)));
            assertEquals("Sgd.importState: state for unknown parameter 0.bias", e.getMessage());
        }
    }

    @Test
    void closeFreesTheState() {
        Optimizer opt = Optimizer.adam(0.1).build();
        twoSteps(opt);
        opt.close();
        assertThrows(IllegalStateException.class, opt::exportState);
    }
}
