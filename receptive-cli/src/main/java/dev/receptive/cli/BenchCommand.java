package dev.receptive.cli;

import dev.receptive.backend.Backend;
import dev.receptive.bench.Bench;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure conv2d and dense GFLOP/s on the seed network's shapes and W1 training images/s.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--backend", description = "auto, cpu or cuda (default: auto)")
    String backend;

    @Option(names = "--precision", description = "fp32, tf32 or bf16 on CUDA (default: fp32)")
    String precision;

    @Option(names = "--batch", description = "Batch size for the op benchmarks and the first training run (default: ${DEFAULT-VALUE})")
    int batch = 64;

    @Option(names = "--train-batches", split = ",", description = "Further training batch sizes (default: 256)")
    int[] more = {256};

    @Option(names = "--samples", description = "Timed samples per figure; the median is reported (default: ${DEFAULT-VALUE})")
    int samples = 5;

    @Override
    public Integer call() {
        if (samples < 1) {
            throw new UsageException("--samples must be >= 1, got " + samples);
        }
        int[] batches = new int[more.length + 1];
        batches[0] = batch;
        System.arraycopy(more, 0, batches, 1, more.length);
        for (int i = 0; i < batches.length; i++) {
            if (batches[i] < 1) {
                throw new UsageException((i == 0 ? "--batch" : "--train-batches") + " must be >= 1, got " + batches[i]);
            }
        }
        try (Backend b = Inputs.backend(backend, precision)) {
            double ips = new Bench(b, System.out, samples).run(batch, batches);
            System.out.printf("train_images_per_s=%.1f%n", ips);
        }
        return 0;
    }
}
