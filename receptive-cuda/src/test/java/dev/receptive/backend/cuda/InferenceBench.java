package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.nn.Model;
import dev.receptive.nn.Predictor;
import dev.receptive.testing.Rand;
import dev.receptive.zoo.Zoo;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Inference images/s of one model's predictor with 1 thread and with N threads at once, A and B
 * alternated sample by sample, the median of each: what the GPU bundle's infer step reports
 * (issue 25: seednet and resnet14 at batch 1, 16 and 256, 8 threads against 1).
 *
 * <pre>java -cp ... dev.receptive.backend.cuda.InferenceBench [BACKEND [THREADS [SECONDS [SAMPLES]]]]</pre>
 * Defaults: cuda, 8 threads, 0.5 s per sample, 3 samples. One line per model and batch:
 * {@code infer resnet14 batch  16: 1 thread 1234.5 images/s, 8 threads 4567.8 images/s (3.70x)}.
 */
public final class InferenceBench {
    static final List<String> MODELS = List.of("seednet", "resnet14");
    static final int[] BATCHES = {1, 16, 256};

    private InferenceBench() {
    }

    public static void main(String[] args) throws Exception {
        String engine = args.length > 0 ? args[0] : "cuda";
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 0.5;
        int samples = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        try (Backend b = Backends.create(engine)) {
            System.out.println("backend: " + b.description());
            run(b, MODELS, BATCHES, threads, seconds, samples, System.out);
        }
    }

    /**
     * Prints one line per model and batch; returns the lines. The same {@code threads} worker
     * threads serve every sample (one of them for the single-thread figure), as a server's request
     * threads would, each warmed up first (its workspace, its stream).
     */
    static List<String> run(Backend b, List<String> models, int[] batches, int threads, double seconds, int samples,
            PrintStream out) throws Exception {
        List<String> lines = new ArrayList<>();
        ExecutorService workers = Executors.newFixedThreadPool(threads);
        try {
            for (String name : models) {
                try (Model model = Zoo.build(name, b, 1)) {
                    Predictor predictor = model.predictor();
                    for (int batch : batches) {
                        float[] x = new Rand(batch).uniform(batch * 784, 0, 1);
                        imagesPerSecond(workers, predictor, x, batch, threads, 0); // warm-up: one pass per thread
                        double[] one = new double[samples];
                        double[] many = new double[samples];
                        for (int s = 0; s < samples; s++) {
                            one[s] = imagesPerSecond(workers, predictor, x, batch, 1, seconds);
                            many[s] = imagesPerSecond(workers, predictor, x, batch, threads, seconds);
                        }
                        double a = median(one);
                        double m = median(many);
                        String line = String.format("infer %s batch %3d: 1 thread %.1f images/s, %d threads %.1f"
                                + " images/s (%.2fx)", name, batch, a, threads, m, m / a);
                        out.println(line);
                        lines.add(line);
                    }
                }
            }
        } finally {
            workers.shutdownNow();
        }
        return lines;
    }

    /**
     * Images/s of {@code threads} tasks on the workers predicting {@code x} until {@code seconds}
     * have passed (each runs at least one prediction), started together.
     */
    static double imagesPerSecond(ExecutorService workers, Predictor predictor, float[] x, int batch, int threads,
            double seconds) throws Exception {
        CyclicBarrier start = new CyclicBarrier(threads);
        AtomicLong images = new AtomicLong();
        AtomicLong began = new AtomicLong();
        long length = (long) (seconds * 1e9);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            done.add(workers.submit(() -> {
                start.await();
                began.compareAndSet(0, System.nanoTime());
                long end = began.get() + length;
                do {
                    predictor.outputs(x);
                    images.addAndGet(batch);
                } while (System.nanoTime() < end);
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        double elapsed = (System.nanoTime() - began.get()) / 1e9;
        return images.get() / elapsed;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
