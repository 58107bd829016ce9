package dev.receptive.bench;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.data.Dataset;
import dev.receptive.data.Mnist;
import dev.receptive.nn.Model;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.train.Evaluation;
import dev.receptive.train.Metrics;
import dev.receptive.train.StepMetrics;
import dev.receptive.train.Trainer;
import dev.receptive.train.TrainingListener;
import dev.receptive.zoo.Zoo;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Speed of the ops that dominate W1 and of whole W1 training steps. Each figure is the median
 * of {@code samples} timed runs after a warm-up (the JIT compiles the kernels during warm-up).
 *
 * <p>The clock is wall time, unless the system property {@code receptive.bench.clock} is
 * {@code thread-cpu}: then the calling thread's CPU time, which leaves out the time other
 * processes hold the core (for a shared machine); it needs a 1-thread CPU backend, since it
 * cannot see worker threads.
 */
public final class Bench {
    /** Forward multiply-adds of one W1 image, times 2: conv1 + conv2 + dense1 + dense2. */
    public static final double FORWARD_FLOP = 2.0 * (28 * 28 * 32 * 25 + 14 * 14 * 64 * 32 * 25 + 3136 * 1024 + 1024 * 10);
    /** Forward plus the backward ops of one trained image (conv1 needs no data gradient). */
    public static final double TRAIN_FLOP = 3 * FORWARD_FLOP - 2.0 * 28 * 28 * 32 * 25;

    private final Backend backend;
    private final PrintStream out;
    private final int samples;
    private final ThreadMXBean cpuClock;

    public Bench(Backend backend, PrintStream out, int samples) {
        this.backend = backend;
        this.out = out;
        if (samples < 1) {
            throw new IllegalArgumentException("bench: samples must be at least 1, got " + samples);
        }
        this.samples = samples;
        String clock = System.getProperty("receptive.bench.clock", "wall");
        if (clock.equals("thread-cpu")) {
            // The calling thread's CPU time counts every op only when every op runs on it.
            if (backend.capabilities().threads() != 1) {
                throw new IllegalArgumentException("receptive.bench.clock=thread-cpu needs the cpu backend on 1 thread"
                        + " (RECEPTIVE_THREADS=1)");
            }
            this.cpuClock = ManagementFactory.getThreadMXBean();
        } else if (clock.equals("wall")) {
            this.cpuClock = null;
        } else {
            throw new IllegalArgumentException("receptive.bench.clock must be wall or thread-cpu, got " + clock);
        }
    }

    private long now() {
        return cpuClock == null ? System.nanoTime() : cpuClock.getCurrentThreadCpuTime();
    }

    /** Runs everything and returns W1 training images/s at the first batch size. */
    public double run(int opBatch, int[] trainBatches) {
        out.printf("backend: %s; clock: %s%n", backend.description(), cpuClock == null ? "wall" : "thread CPU time");
        convOps(opBatch, "conv1", 1, 28, 32);
        convOps(opBatch, "conv2", 32, 14, 64);
        denseOps(opBatch);
        double first = 0;
        for (int i = 0; i < trainBatches.length; i++) {
            double ips = train(trainBatches[i]);
            if (i == 0) {
                first = ips;
            }
        }
        return first;
    }

    private void convOps(int n, String name, int c, int hw, int k) {
        Conv2dParams p = Conv2dParams.of(1, 2, 1);
        double flop = 2.0 * n * k * hw * hw * c * 25;
        try (Tensor x = random(n, c, hw, hw); Tensor w = random(k, c, 5, 5); Tensor bias = random(k);
                Tensor y = backend.allocate(Shape.of(n, k, hw, hw)); Tensor dx = backend.allocate(x.shape());
                Tensor dw = backend.allocate(w.shape())) {
            report(name + " forward", flop, () -> backend.conv2dForward(y, x, w, bias, p), n);
            report(name + " backwardData", flop, () -> backend.conv2dBackwardData(dx, y, w, p), n);
            report(name + " backwardFilter", flop, () -> backend.conv2dBackwardFilter(dw, x, y, p, false), n);
        }
    }

    private void denseOps(int n) {
        double flop = 2.0 * n * 3136 * 1024;
        try (Tensor x = random(n, 3136); Tensor w = random(1024, 3136); Tensor bias = random(1024);
                Tensor y = backend.allocate(Shape.of(n, 1024)); Tensor dx = backend.allocate(x.shape());
                Tensor dw = backend.allocate(w.shape()); Tensor db = backend.allocate(bias.shape())) {
            report("dense1 forward", flop, () -> backend.denseForward(y, x, w, bias), n);
            report("dense1 backward", 2 * flop, () -> backend.denseBackward(dx, dw, db, y, x, w, false), n);
        }
    }

    /**
     * W1 training images/s through the real path: the zoo's seed network, the {@link Trainer}
     * with Adam and softmax cross-entropy, on random data already in memory. A short run warms up
     * and sizes the epochs to about two seconds; the median of {@code samples} epochs' images/s is
     * reported. Each epoch is timed on the training thread from its start to its end (with the
     * thread-CPU clock, the training thread's own time; the batches are filled on another thread),
     * and the first epoch of every run is left out as JIT warm-up.
     */
    private double train(int batch) {
        double warm = timedEpochs(batch, 5, 1)[0];
        int steps = (int) Math.max(5, Math.min(500, Math.round(2.0 / (warm / 5))));
        double[] seconds = timedEpochs(batch, steps, samples);
        double[] ips = new double[seconds.length];
        for (int i = 0; i < ips.length; i++) {
            ips[i] = (double) batch * steps / seconds[i];
        }
        Arrays.sort(ips);
        double median = ips[ips.length / 2];
        out.printf("W1 train batch %4d: %10.1f images/s  (%.1f ms/step, %.1f GFLOP/s effective)%n", batch, median,
                batch / median * 1e3, TRAIN_FLOP * median / 1e9);
        return median;
    }

    /** Trains 1 + {@code epochs} epochs of {@code steps} steps each and returns the seconds of all but the first. */
    private double[] timedEpochs(int batch, int steps, int epochs) {
        SplittableRandom rnd = new SplittableRandom(1);
        int n = batch * steps;
        float[] images = new float[n * 784];
        int[] labels = new int[n];
        for (int i = 0; i < images.length; i++) {
            images[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        for (int i = 0; i < n; i++) {
            labels[i] = rnd.nextInt(10);
        }
        Dataset data = new Dataset(images, labels, Shape.of(1, 28, 28), Mnist.CLASS_NAMES);
        List<Double> seconds = new ArrayList<>();
        TrainingListener clock = new TrainingListener() {
            private long start;

            @Override
            public void epochStarted(int epoch, int total, long imageCount) {
                start = now();
            }

            @Override
            public void epochEnded(Metrics metrics, List<Metrics> history, List<StepMetrics> stepHistory,
                    Evaluation validation, java.nio.file.Path runFolder) {
                seconds.add((now() - start) / 1e9);
            }
        };
        try (Model model = Zoo.seedNet().seed(42).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-4).build()) {
            try {
                Trainer.builder().model(model).loss(loss).optimizer(adam).epochs(1 + epochs).batchSize(batch).seed(1)
                        .listener(clock).build().fit(data);
            } catch (IOException e) {
                throw new UncheckedIOException(e); // no run folder: nothing is written
            }
        }
        return seconds.stream().skip(1).mapToDouble(Double::doubleValue).toArray();
    }

    private void report(String what, double flop, Runnable op, int n) {
        double s = medianSeconds(op);
        out.printf("%-22s batch %3d: %8.2f ms  %7.1f GFLOP/s%n", what, n, s * 1e3, flop / s / 1e9);
    }

    /** Warm up for about a second, then the median over samples of the mean time per call. */
    private double medianSeconds(Runnable op) {
        long warmEnd = System.nanoTime() + 1_000_000_000L;
        int calls = 0;
        long t0 = System.nanoTime();
        do {
            op.run();
            backend.synchronize();
            calls++;
        } while (System.nanoTime() < warmEnd || calls < 3);
        double perCall = (System.nanoTime() - t0) / 1e9 / calls;
        int reps = (int) Math.max(1, Math.min(1000, 0.3 / perCall));
        List<Double> times = new ArrayList<>();
        for (int sample = 0; sample < samples; sample++) {
            long t = now();
            for (int r = 0; r < reps; r++) {
                op.run();
            }
            backend.synchronize();
            times.add((now() - t) / 1e9 / reps);
        }
        double[] sorted = times.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private Tensor random(int... dims) {
        Shape s = Shape.of(dims);
        SplittableRandom rnd = new SplittableRandom(s.size());
        float[] a = new float[s.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return backend.upload(a, s);
    }
}
