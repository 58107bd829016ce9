package dev.receptive.nn.optim;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.receptive.testing.Close;
import org.junit.jupiter.api.Test;

/** Hand values; each is one float rounding of a double expression, hence rtol 1e-6. */
class LrScheduleTest {

    private static float[] epochs(LrSchedule s, float base, int n) {
        float[] lr = new float[n];
        for (int e = 0; e < n; e++) {
            lr[e] = s.lr(e, base);
        }
        return lr;
    }

    @Test
    void constantKeepsTheBaseRate() {
        Close.assertClose("constant", new double[] {0.01, 0.01, 0.01}, epochs(LrSchedule.constant(), 0.01f, 3), 0, 1e-6);
    }

    @Test
    void stepHalvesEveryTwoEpochs() {
        Close.assertClose("step(2, 0.5)", new double[] {0.1, 0.1, 0.05, 0.05, 0.025},
                epochs(LrSchedule.step(2, 0.5), 0.1f, 5), 0, 1e-6);
    }

    @Test
    void cosineAnnealsToTheMinimumAndStaysThere() {
        // 1 + cos(π/4) = 1.70710678, 1 + cos(3π/4) = 0.29289322
        Close.assertClose("cosine(4, 0)", new double[] {1, 0.85355339, 0.5, 0.14644661, 0, 0},
                epochs(LrSchedule.cosine(4, 0), 1f, 6), 1e-7, 1e-6);
        Close.assertClose("cosine(4, 0.1)", new double[] {1, 0.86819805, 0.55, 0.23180195, 0.1},
                epochs(LrSchedule.cosine(4, 0.1), 1f, 5), 1e-7, 1e-6);
    }

    @Test
    void badSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.step(0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.step(2, 0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(0, 0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(10, -1));
    }
}
