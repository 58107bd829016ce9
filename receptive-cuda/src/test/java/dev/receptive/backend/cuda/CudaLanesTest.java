package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.Predictor;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import dev.receptive.zoo.Zoo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Threads on their own streams (lanes): ordering between lanes, and training that stays on one
 * stream. Never run on a GPU yet (written without one); the host-side logic is LanePoolTest's and
 * DeviceAllocatorTest's.
 */
class CudaLanesTest {
    /**
     * A tensor written on one thread's lane and read at once on another's, with no synchronize
     * between: the reader's lane must wait for the writer's by an event. Without that fence the
     * reader's copy runs while the writer's 64 MiB fill and scale are still queued, and reads zeros
     * or a half-scaled tensor; with 20 rounds a missing fence would show.
     */
    @Test
    void aTensorWrittenOnOneLaneIsReadCompleteOnAnother() throws Exception {
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip()) {
            int n = 16 << 20;
            ExecutorService writer = Executors.newSingleThreadExecutor();
            ExecutorService reader = Executors.newSingleThreadExecutor();
            try {
                for (int round = 0; round < 20; round++) {
                    float value = round + 1;
                    Tensor t = writer.submit(() -> {
                        Tensor x = gpu.allocate(Shape.of(n));
                        gpu.fill(x, value);
                        for (int k = 0; k < 8; k++) {
                            gpu.scale(x, x, 1f); // more queued work ahead of the reader
                        }
                        gpu.scale(x, x, 2f);
                        return x;
                    }).get(60, TimeUnit.SECONDS);
                    float[] got = reader.submit(() -> {
                        try (Tensor copy = gpu.allocate(Shape.of(n))) {
                            gpu.copy(copy, t);
                            float[] out = new float[n];
                            gpu.download(copy, out);
                            return out;
                        }
                    }).get(60, TimeUnit.SECONDS);
                    assertEquals(2 * value, got[0], "round " + round + " first element");
                    assertEquals(2 * value, got[n - 1], "round " + round + " last element");
                    writer.submit(t::close).get(60, TimeUnit.SECONDS);
                }
                assertTrue(gpu.streamsInUse() >= 3, "writer and reader each had a lane of their own");
            } finally {
                writer.shutdownNow();
                reader.shutdownNow();
            }
        }
    }

    /**
     * 8 threads predict batches of 1 and 16 on one model at once (a barrier starts them together)
     * and get exactly what one thread gets: every lane runs the same cuDNN algorithm for a geometry
     * (CudnnConv.Choices), cuBLAS's SGEMM is deterministic for a given handle setup, and the
     * other ops are Receptive's deterministic kernels, so there is no tolerance.
     */
    @Test
    void eightThreadsOnTheirOwnStreamsPredictWhatOneThreadPredicts() throws Exception {
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip(CudaOptions.defaults().withDeterministic(true));
                Model model = Zoo.build("resnet8", gpu, 4)) {
            Rand rand = new Rand(15);
            List<float[]> inputs = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                inputs.add(rand.uniform((i % 2 == 0 ? 1 : 16) * 784, -1, 1));
            }
            Predictor predictor = model.predictor();
            List<float[]> expected = new ArrayList<>();
            for (float[] x : inputs) {
                expected.add(predictor.outputs(x));
            }
            int threads = 8;
            CyclicBarrier start = new CyclicBarrier(threads);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int first = t;
                    done.add(pool.submit(() -> {
                        start.await();
                        for (int i = first; i < inputs.size(); i += threads) {
                            assertArrayEquals(expected.get(i), predictor.outputs(inputs.get(i)), "prediction " + i);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(300, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(CudaOptions.DEFAULT_STREAMS, gpu.streamsInUse(), "the threads got lanes up to the bound");
        }
    }

    /**
     * Training stays on one stream, and a lane's stream computes what the shared stream computes:
     * on one backend of two streams (so both runs use the same cuDNN algorithms), ten seednet steps
     * on a thread that holds its own lane and ten on a thread that is refused one and shares lane 0
     * give bit-identical losses and weights (deterministic algorithms).
     */
    @Test
    void trainingOnItsOwnLaneEqualsTrainingOnTheSharedOne() throws Exception {
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip(CudaOptions.defaults().withDeterministic(true)
                .withStreams(2))) {
            CountDownLatch trained = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            ExecutorService first = Executors.newSingleThreadExecutor();
            ExecutorService second = Executors.newSingleThreadExecutor();
            try {
                Future<ModelLockStep.Run> own = first.submit(() -> {
                    try {
                        return ModelLockStep.modelSteps(gpu, "seednet", ModelLockStep.LR);
                    } finally {
                        trained.countDown();
                        release.await(); // stay alive: the lane stays bound to this thread
                    }
                });
                trained.await(300, TimeUnit.SECONDS);
                ModelLockStep.Run shared = second.submit(() -> ModelLockStep.modelSteps(gpu, "seednet",
                        ModelLockStep.LR)).get(300, TimeUnit.SECONDS);
                release.countDown();
                ModelLockStep.Run mine = own.get(300, TimeUnit.SECONDS);
                assertEquals(2, gpu.streamsInUse(), "one lane bound, the second thread refused");
                assertEquals(mine.losses(), shared.losses());
                for (String name : mine.weights().keySet()) {
                    HostTensor a = mine.weights().get(name);
                    assertArrayEquals(a.data(), shared.weights().get(name).data(), name);
                }
            } finally {
                release.countDown();
                first.shutdownNow();
                second.shutdownNow();
            }
        }
    }
}
