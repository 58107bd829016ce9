package dev.receptive.nn.init;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.nn.Model;
import dev.receptive.backend.Backend;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.Parameter;
import dev.receptive.nn.Sequential;
import dev.receptive.testing.Close;
import dev.receptive.testing.TestBackends;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class InitTest {
    private final Backend backend = TestBackends.cpu(1);

    @AfterEach
    void close() {
        backend.close();
    }

    private static double mean(float[] a) {
        double s = 0;
        for (float v : a) {
            s += v;
        }
        return s / a.length;
    }

    private static double std(float[] a) {
        double m = mean(a);
        double s = 0;
        for (float v : a) {
            s += (v - m) * (v - m);
        }
        return Math.sqrt(s / a.length);
    }

    /** A conv (fan_in = 16·5·5 = 400, fan_out 128·5·5, 51,200 weights) then a dense layer (512 → 512, 262,144 weights). */
    private Model big(Init init, long seed) {
        return Sequential.builder().input(16, 6, 6)
                .add(Conv2d.builder().filters(128).kernel(5).init(init).build())
                .add(new Flatten())
                .add(Dense.builder().units(512).init(init).build())
                .seed(seed).build(backend);
    }

    @Test
    void heDrawsWithStdSqrtTwoOverFanIn() {
        try (Model model = big(Init.he(), 3)) {
            float[] conv = model.parameters().get(0).value().toArray();
            float[] dense = model.parameters().get(2).value().toArray();
            // The sample std of n normals is off by ~1/√(2n) < 0.2% here; 2% fails any wrong fan or gain.
            Close.assertClose("conv std", Math.sqrt(2.0 / 400), (float) std(conv), 0, 0.02);
            Close.assertClose("dense std", Math.sqrt(2.0 / 512), (float) std(dense), 0, 0.02);
            Close.assertClose("conv mean", 0, (float) mean(conv), 3 * Math.sqrt(2.0 / 400 / conv.length), 0);
            Close.assertClose("conv bias", new float[128], model.parameters().get(1).value().toArray(), 0, 0);
            Close.assertClose("dense bias", new float[512], model.parameters().get(3).value().toArray(), 0, 0);
        }
    }

    @Test
    void xavierDrawsUniformlyWithinTheGlorotBound() {
        try (Model model = big(Init.xavier(), 3)) {
            float[] dense = model.parameters().get(2).value().toArray();
            double a = Math.sqrt(6.0 / (512 + 512));
            for (float v : dense) {
                assertTrue(Math.abs(v) <= a, v + " outside ±" + a);
            }
            // U(−a, a) has std a/√3.
            Close.assertClose("dense std", a / Math.sqrt(3), (float) std(dense), 0, 0.02);
            float[] conv = model.parameters().get(0).value().toArray();
            double b = Math.sqrt(6.0 / (400 + 128 * 25));
            Close.assertClose("conv std", b / Math.sqrt(3), (float) std(conv), 0, 0.02);
        }
    }

    @Test
    void theSeedDeterminesEveryWeight() {
        try (Model a = big(Init.he(), 7); Model b = big(Init.he(), 7); Model c = big(Init.he(), 8)) {
            for (int i = 0; i < a.parameters().size(); i += 2) {
                Parameter pa = a.parameters().get(i);
                Close.assertClose(pa.name(), pa.value().toArray(), b.parameters().get(i).value().toArray(), 0, 0);
                assertFalse(Arrays.equals(pa.value().toArray(), c.parameters().get(i).value().toArray()),
                        pa.name() + " differs for another seed");
            }
        }
    }

    @Test
    void layersOfTheSameShapeDrawDifferentWeights() {
        try (Model model = Sequential.builder().input(8)
                .add(Dense.builder().units(8).build()).add(Dense.builder().units(8).build())
                .seed(1).build(backend)) {
            assertFalse(Arrays.equals(model.parameters().get(0).value().toArray(),
                    model.parameters().get(2).value().toArray()));
        }
    }

    @Test
    void initsAreFoundByName() {
        assertEquals(Init.he(), Init.byName("he"));
        assertEquals(Init.xavier(), Init.byName("xavier"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Init.byName("orthogonal"));
        assertTrue(e.getMessage().contains("orthogonal"), e.getMessage());
    }

    @Test
    void heIsAPureFunctionOfTheGenerator() {
        float[] a = new float[100];
        float[] b = new float[100];
        Init.he().initialize(a, 10, 10, new SplittableRandom(5));
        Init.he().initialize(b, 10, 10, new SplittableRandom(5));
        Close.assertClose("same generator state", a, b, 0, 0);
    }
}
