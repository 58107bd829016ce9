package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.testing.TestBackends;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The bundle's inference benchmark on the CPU, briefly: its lines, its medians, its ratio. No timing is asserted. */
class InferenceBenchTest {
    private static final Pattern LINE = Pattern.compile(
            "infer seednet batch +(\\d+): 1 thread ([0-9.]+) images/s, 2 threads ([0-9.]+) images/s \\(([0-9.]+)x\\)");

    @Test
    void printsOneLinePerBatchWithBothFiguresAndTheirRatio() throws Exception {
        try (Backend cpu = TestBackends.cpu(1)) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            List<String> lines = InferenceBench.run(cpu, List.of("seednet"), new int[] {1, 2}, 2, 0.05, 1,
                    new PrintStream(bytes, true, StandardCharsets.UTF_8));
            assertEquals(2, lines.size());
            assertEquals(String.join("\n", lines) + "\n", bytes.toString(StandardCharsets.UTF_8).replace("\r", ""));
            for (int i = 0; i < 2; i++) {
                Matcher m = LINE.matcher(lines.get(i));
                assertTrue(m.matches(), lines.get(i));
                assertEquals(i + 1, Integer.parseInt(m.group(1)));
                double one = Double.parseDouble(m.group(2));
                double two = Double.parseDouble(m.group(3));
                assertTrue(one > 0 && two > 0, lines.get(i));
                // The figures are printed to 0.1 images/s: the ratio of the printed figures may differ
                // from the printed ratio by that rounding.
                double ratio = Double.parseDouble(m.group(4));
                double slack = 0.006 + ratio * (0.05 / one + 0.05 / two);
                assertEquals(two / one, ratio, slack, lines.get(i));
            }
        }
        assertEquals(2.5, InferenceBench.median(new double[] {4, 1, 2, 3}));
        assertEquals(2, InferenceBench.median(new double[] {3, 1, 2}));
    }
}
