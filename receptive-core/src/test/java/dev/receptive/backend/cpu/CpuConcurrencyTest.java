package dev.receptive.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Activation;
import dev.receptive.backend.AdamParams;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** One CPU backend used by several threads at once: each caller gets exactly its own results. */
class CpuConcurrencyTest {
    private static final int STEPS = 12;

    @Test
    void twoModelsTrainingAtOnceOnOneBackendMatchTrainingOneAfterTheOther() throws Exception {
        List<float[]> alone = new ArrayList<>();
        try (CpuBackend cpu = new CpuBackend(2)) {
            for (int model = 0; model < 2; model++) {
                alone.add(train(cpu, model, null));
            }
        }
        try (CpuBackend cpu = new CpuBackend(2)) {
            ExecutorService callers = Executors.newFixedThreadPool(2);
            try {
                // Both callers start each step together, so their ops overlap as much as possible.
                CyclicBarrier together = new CyclicBarrier(2);
                List<Future<float[]>> runs = new ArrayList<>();
                for (int model = 0; model < 2; model++) {
                    int m = model;
                    runs.add(callers.submit(() -> train(cpu, m, together)));
                }
                for (int model = 0; model < 2; model++) {
                    assertArrayEquals(alone.get(model), runs.get(model).get(),
                            "model " + model + " trained beside another differs from training it alone");
                }
            } finally {
                callers.shutdownNow();
            }
        }
    }

    @Test
    void aClosedBackendRefusesToAllocateAndToCompute() {
        CpuBackend cpu = new CpuBackend(2);
        Tensor t = cpu.allocate(Shape.of(4));
        cpu.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cpu.allocate(Shape.of(4)));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> cpu.fill(t, 1f));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void aTensorOfAnotherCpuBackendIsNamedAsSuch() {
        try (CpuBackend a = new CpuBackend(1); CpuBackend b = new CpuBackend(1); Tensor t = b.allocate(Shape.of(2))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.fill(t, 1f));
            assertTrue(e.getMessage().contains("another cpu backend"), e.getMessage());
        }
    }

    /**
     * A small conv net (conv 3×3 → ReLU → max-pool → dense → softmax cross-entropy → Adam) trained
     * for a few steps on fixed random data; returns every weight afterwards.
     */
    private static float[] train(CpuBackend cpu, int model, CyclicBarrier together) throws Exception {
        Rand rand = new Rand(100 + model);
        Conv2dParams same3 = Conv2dParams.of(1, 1, 1);
        Pool2dParams pool2 = Pool2dParams.of(2, 2, 0);
        int n = 16;
        List<Tensor> all = new ArrayList<>();
        try {
            Tensor x = add(all, cpu.upload(rand.uniform(n * 3 * 16 * 16, -1, 1), Shape.of(n, 3, 16, 16)));
            Tensor labels = add(all, cpu.upload(rand.labels(n, 10), Shape.of(n)));
            Tensor[] params = {
                add(all, cpu.upload(rand.uniform(8 * 3 * 3 * 3, -0.3, 0.3), Shape.of(8, 3, 3, 3))),
                add(all, cpu.upload(rand.uniform(8, -0.1, 0.1), Shape.of(8))),
                add(all, cpu.upload(rand.uniform(10 * 512, -0.05, 0.05), Shape.of(10, 512))),
                add(all, cpu.upload(rand.uniform(10, -0.1, 0.1), Shape.of(10))),
            };
            Tensor[] grads = new Tensor[params.length];
            Tensor[] m = new Tensor[params.length];
            Tensor[] v = new Tensor[params.length];
            for (int i = 0; i < params.length; i++) {
                grads[i] = add(all, cpu.allocate(params[i].shape()));
                m[i] = add(all, cpu.allocate(params[i].shape()));
                v[i] = add(all, cpu.allocate(params[i].shape()));
            }
            Tensor a = add(all, cpu.allocate(Shape.of(n, 8, 16, 16)));
            Tensor p = add(all, cpu.allocate(Shape.of(n, 8, 8, 8)));
            Tensor z = add(all, cpu.allocate(Shape.of(n, 10)));
            Tensor loss = add(all, cpu.allocate(Shape.of(1)));
            Tensor dz = add(all, cpu.allocate(z.shape()));
            Tensor dp = add(all, cpu.allocate(p.shape()));
            Tensor da = add(all, cpu.allocate(a.shape()));
            for (int step = 1; step <= STEPS; step++) {
                if (together != null) {
                    together.await();
                }
                cpu.conv2dForward(a, x, params[0], params[1], same3);
                cpu.activationForward(Activation.RELU, a, a);
                cpu.pool2dForward(PoolMode.MAX, p, a, pool2);
                cpu.denseForward(z, p, params[2], params[3]);
                cpu.softmaxCrossEntropy(loss, dz, z, labels);
                cpu.denseBackward(dp, grads[2], grads[3], dz, p, params[2], false);
                cpu.pool2dBackward(PoolMode.MAX, da, dp, a, p, pool2);
                cpu.activationBackward(Activation.RELU, da, da, a);
                cpu.conv2dBackwardFilter(grads[0], x, da, same3, false);
                cpu.conv2dBackwardBias(grads[1], da, false);
                AdamParams adam = new AdamParams(1e-2f, 0.9f, 0.999f, 1e-8f, 0f, false, step);
                for (int i = 0; i < params.length; i++) {
                    cpu.adamUpdate(params[i], grads[i], m[i], v[i], adam);
                }
            }
            List<float[]> weights = new ArrayList<>();
            int size = 0;
            for (Tensor t : params) {
                weights.add(cpu.download(t));
                size += t.size();
            }
            float[] out = new float[size];
            int at = 0;
            for (float[] w : weights) {
                System.arraycopy(w, 0, out, at, w.length);
                at += w.length;
            }
            return out;
        } finally {
            for (int i = all.size() - 1; i >= 0; i--) {
                all.get(i).close();
            }
        }
    }

    private static Tensor add(List<Tensor> all, Tensor t) {
        all.add(t);
        return t;
    }
}
