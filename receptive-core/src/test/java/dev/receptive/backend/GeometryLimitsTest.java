package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Sequential;
import dev.receptive.tensor.Shape;
import dev.receptive.testing.TestBackends;
import org.junit.jupiter.api.Test;

/** Output sizes never wrap around int, and parameter errors show the values given. */
class GeometryLimitsTest {
    private static final int MAX = Integer.MAX_VALUE;

    private static void assertContains(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "'" + p + "' in: " + message);
        }
    }

    /** The finding: dilation 2^31 - 1 wrapped around to an output of 30 instead of an error. */
    @Test
    void convOutputSizeThatOverflowsIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Conv2dParams.outputSize(28, 3, 1, 0, MAX));
        assertContains(e.getMessage(), "2147483647", "-4294967266");
        // A large padding whose output does not fit in an int either.
        assertThrows(IllegalArgumentException.class, () -> Conv2dParams.outputSize(MAX, 1, 1, MAX / 2 + 10, 1));
        // In range, the formula as before.
        assertEquals(14, Conv2dParams.outputSize(28, 5, 2, 2, 1));
        assertEquals(-4, Conv2dParams.outputSize(2, 3, 1, 0, 3)); // (2 - 3*2 - 1) / 1 + 1
        Shape x = Shape.of(1, 1, 28, 28);
        Shape w = Shape.of(4, 1, 3, 3);
        assertThrows(IllegalArgumentException.class, () -> Conv2dParams.of(1, 0, MAX).outputShape("conv2dForward", x, w));
    }

    @Test
    void convLayerWithAHugeDilationIsRefusedWithAMessage() {
        try (Backend cpu = TestBackends.cpu(1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sequential.builder()
                    .input(1, 28, 28).add(Conv2d.builder().filters(2).kernel(3).dilation(MAX).build()).build(cpu));
            assertContains(e.getMessage(), "2147483647");
        }
    }

    @Test
    void poolPaddingCheckDoesNotWrap() {
        // 2 * 2^30 wrapped to -2^31, which is not more than the window.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Pool2dParams(MAX, MAX, 1, 1, 1 << 30, 0));
        assertContains(e.getMessage(), "1073741824", "2147483647");
    }

    /** Records validated in their compact constructor printed all zeros: the fields are not set yet there. */
    @Test
    void parameterErrorsShowTheValuesGiven() {
        assertContains(assertThrows(IllegalArgumentException.class, () -> new Conv2dParams(-3, 1, 0, 0, 1, 1))
                .getMessage(), "-3");
        assertContains(assertThrows(IllegalArgumentException.class, () -> new Conv2dParams(1, 1, -7, 0, 1, 1))
                .getMessage(), "-7");
        assertContains(assertThrows(IllegalArgumentException.class, () -> new Pool2dParams(3, 3, 0, 1, 0, 0))
                .getMessage(), "window 3x3", "stride 0x1");
        assertContains(assertThrows(IllegalArgumentException.class, () -> new Pool2dParams(2, 2, 2, 2, 5, 0))
                .getMessage(), "padding 5x0");
    }
}
