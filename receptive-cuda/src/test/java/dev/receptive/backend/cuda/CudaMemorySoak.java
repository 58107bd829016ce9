package dev.receptive.backend.cuda;

import dev.receptive.nn.Pass;
import dev.receptive.nn.Model;
import dev.receptive.nn.Workspace;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import dev.receptive.zoo.Zoo;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.JCudaDriver;

/**
 * A device-memory soak: the seed network trained for many steps through the model path on the
 * GPU, with an evaluation pass at another batch size now and then, sampling the allocator's live
 * and cached bytes, its cuMemAlloc count and the driver's free memory every 100 steps. After the
 * warm-up (every shape seen once) nothing may grow: a leak of tensors, descriptors or library
 * workspaces shows as a rising count or falling free memory.
 *
 * <pre>java -cp ... dev.receptive.backend.cuda.CudaMemorySoak STEPS CSV_FILE</pre>
 * Exit status 0 when flat, 1 when something grew, 2 when CUDA cannot be used.
 */
public final class CudaMemorySoak {
    static final int EVERY = 100;
    static final int WARMUP = 200;
    /** The driver hands out device memory in 2 MiB pages: one page of slack. */
    static final long FREE_SLACK = 2L << 20;
    private static final int BATCH = 64;
    private static final int EVAL_BATCH = 100;

    /** One sample. */
    record Sample(int step, long live, long cached, long allocations, long driverFree, long workspace) {
        String csv() {
            return step + "," + live + "," + cached + "," + allocations + "," + driverFree + "," + workspace;
        }
    }

    private CudaMemorySoak() {
    }

    /**
     * Runs the soak.
     *
     * @param args steps (default 2000) and the CSV file to write (default soak.csv)
     * @throws IOException when the CSV cannot be written
     */
    public static void main(String[] args) throws IOException {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        Path csv = Path.of(args.length > 1 ? args[1] : "soak.csv");
        CudaProbe probe = CudaProbe.probe();
        if (!probe.available()) {
            System.out.println("soak: CUDA cannot be used: " + probe.reason());
            System.exit(2);
        }
        List<Sample> samples;
        long start = System.nanoTime();
        try (CudaBackend gpu = new CudaBackend()) {
            samples = run(gpu, steps, System.out);
        }
        List<String> lines = new ArrayList<>();
        lines.add("step,live_bytes,cached_bytes,device_allocations,driver_free_bytes,workspace_bytes");
        samples.forEach(s -> lines.add(s.csv()));
        Files.write(csv, lines, StandardCharsets.UTF_8);
        String growth = growth(samples);
        System.out.printf("soak: %d steps at batch %d in %.1f s%n", steps, BATCH, (System.nanoTime() - start) / 1e9);
        System.out.println(growth == null ? "soak: PASS: nothing grew after step " + WARMUP : "soak: FAIL: " + growth);
        System.exit(growth == null ? 0 : 1);
    }

    static List<Sample> run(CudaBackend gpu, int steps, PrintStream log) {
        List<Sample> samples = new ArrayList<>();
        Rand rand = new Rand(99);
        float[] images = rand.uniform(BATCH * 784, 0, 1);
        float[] labels = rand.labels(BATCH, 10);
        float[] evalImages = rand.uniform(EVAL_BATCH * 784, 0, 1);
        float[] evalLabels = rand.labels(EVAL_BATCH, 10);
        try (Model model = Zoo.seedNet().seed(1).build(gpu); Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-4).build(); Workspace ws = model.newWorkspace();
                Tensor x = gpu.allocate(Shape.of(BATCH, 1, 28, 28)); Tensor y = gpu.allocate(Shape.of(BATCH));
                Tensor ex = gpu.allocate(Shape.of(EVAL_BATCH, 1, 28, 28)); Tensor ey = gpu.allocate(Shape.of(EVAL_BATCH))) {
            for (int step = 1; step <= steps; step++) {
                gpu.upload(x, images);
                gpu.upload(y, labels);
                model.zeroGrad();
                loss.compute(ws.forward(x, Pass.train(step)), y);
                ws.backward(loss.gradient());
                adam.step(model.parameters());
                // At steps 50, 550, ...: the first within the warm-up, and never on a sampled step, so
                // every sample sees the layers holding their training-batch tensors.
                if (step % 500 == 50) {
                    gpu.upload(ex, evalImages);
                    gpu.upload(ey, evalLabels);
                    loss.evaluate(ws.forward(ex, Pass.EVAL), ey);
                }
                if (step % EVERY == 0) {
                    gpu.synchronize();
                    long[] free = new long[1];
                    long[] total = new long[1];
                    JCudaDriver.cuMemGetInfo(free, total);
                    Sample s = new Sample(step, gpu.liveBytes(), gpu.cachedBytes(), gpu.deviceAllocations(), free[0],
                            gpu.workspaceBytes());
                    samples.add(s);
                    log.printf("soak: step %5d loss %.4f live %d cached %d allocations %d driver free %d MiB%n", step,
                            loss.value(), s.live(), s.cached(), s.allocations(), s.driverFree() >> 20);
                }
            }
        }
        return samples;
    }

    /** What grew after the warm-up, or null: the allocator's figures must stay exactly flat, free memory within a page. */
    static String growth(List<Sample> samples) {
        Sample base = null;
        for (Sample s : samples) {
            if (s.step() < WARMUP) {
                continue;
            }
            if (base == null) {
                base = s;
                continue;
            }
            List<String> grew = new ArrayList<>();
            if (s.live() != base.live()) {
                grew.add("live bytes " + base.live() + " -> " + s.live());
            }
            if (s.cached() != base.cached()) {
                grew.add("cached bytes " + base.cached() + " -> " + s.cached());
            }
            if (s.allocations() != base.allocations()) {
                grew.add("cuMemAlloc calls " + base.allocations() + " -> " + s.allocations());
            }
            if (s.workspace() != base.workspace()) {
                grew.add("workspace bytes " + base.workspace() + " -> " + s.workspace());
            }
            if (s.driverFree() < base.driverFree() - FREE_SLACK) {
                grew.add("driver free memory " + (base.driverFree() >> 20) + " MiB -> " + (s.driverFree() >> 20) + " MiB");
            }
            if (!grew.isEmpty()) {
                return "between step " + base.step() + " and step " + s.step() + ": " + String.join(", ", grew);
            }
        }
        return base == null ? "no sample after the warm-up of " + WARMUP + " steps" : null;
    }
}
