package dev.receptive.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ShapeTest {
    @Test
    void productsThatOverflowAreRefusedWithAMessage() {
        int max = Integer.MAX_VALUE;
        // Three dimensions of 2^31 - 1 overflow a long: that was an ArithmeticException.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(max, max, max));
        assertTrue(e.getMessage().contains("[2147483647, 2147483647, 2147483647]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Shape.of(65536, 32768));
        assertThrows(IllegalArgumentException.class, () -> Shape.of(2, 2).withBatch(max));
        assertEquals(max - 8, Shape.of(max - 8).size());
        assertEquals(6, Shape.of(1, 2, 3).size());
    }
}
