package dev.receptive.backend.cuda.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Stands in for {@code receptive.jar bench} in GpuBundleScriptTest: appends "receptive PRECISION" to
 * the file named by FAKE_BENCH_LOG and prints bench's training lines with images/s = batch·m + 10·k,
 * m = 10, 20, 30 for fp32, tf32, bf16 and k the number of earlier runs at that precision, so the
 * median over three rounds is batch·m + 10.
 */
public final class FakeBench {
    private FakeBench() {
    }

    public static void main(String[] args) throws IOException {
        String precision = "fp32";
        List<Integer> batches = new ArrayList<>();
        for (int i = 0; i < args.length - 1; i++) {
            switch (args[i]) {
                case "--precision" -> precision = args[i + 1];
                case "--batch" -> batches.add(Integer.parseInt(args[i + 1]));
                case "--train-batches" -> {
                    for (String b : args[i + 1].split(",")) {
                        batches.add(Integer.parseInt(b));
                    }
                }
                default -> {
                }
            }
        }
        Path log = Path.of(System.getenv("FAKE_BENCH_LOG"));
        long earlier = Files.exists(log) ? Files.readAllLines(log).stream().filter(("receptive " + precision)::equals)
                .count() : 0;
        Files.writeString(log, "receptive " + precision + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        int m = switch (precision) {
            case "tf32" -> 20;
            case "bf16" -> 30;
            default -> 10;
        };
        System.out.println("backend: fake");
        for (int b : batches) {
            System.out.printf("W1 train batch %4d: %10.1f images/s  (1.00 ms/step)%n", b, (double) b * m + 10 * earlier);
        }
    }
}
