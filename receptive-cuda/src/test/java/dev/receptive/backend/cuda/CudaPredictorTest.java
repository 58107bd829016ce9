package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.receptive.nn.BatchingPredictor;
import dev.receptive.nn.Model;
import dev.receptive.nn.Predictor;
import dev.receptive.testing.Close;
import dev.receptive.testing.Rand;
import dev.receptive.zoo.Zoo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Many threads predicting on one model on one GPU get exactly what one thread gets. */
class CudaPredictorTest {
    private static final int THREADS = 8;
    private static final int PREDICTIONS = 100;

    @Test
    void threadsSharingOneGpuModelPredictWhatOneThreadPredicts() throws Exception {
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip(CudaOptions.defaults().withDeterministic(true));
                Model model = Zoo.build("resnet8", gpu, 4)) {
            Rand rand = new Rand(5);
            List<float[]> inputs = new ArrayList<>();
            for (int i = 0; i < THREADS * PREDICTIONS; i++) {
                inputs.add(rand.uniform((1 + i % 4) * 784, -1, 1));
            }
            // One thread first, through the same padded buckets the threads use (3 items run in the bucket
            // of 4, where cuDNN may pick another algorithm than for 3).
            Predictor predictor = model.predictor();
            List<float[]> expected = new ArrayList<>();
            for (float[] x : inputs) {
                expected.add(predictor.outputs(x));
            }
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int first = t;
                    done.add(pool.submit(() -> {
                        int n = 0;
                        for (int i = first; i < inputs.size(); i += THREADS) {
                            assertArrayEquals(expected.get(i), predictor.outputs(inputs.get(i)), "prediction " + i);
                            n++;
                        }
                        return n;
                    }));
                }
                int total = 0;
                for (Future<Integer> f : done) {
                    total += f.get(300, TimeUnit.SECONDS);
                }
                assertEquals(THREADS * PREDICTIONS, total);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * The batching predictor on the GPU: items from many threads share passes and each answer is
     * the item's own. Tolerance: a pass of another batch size may run another cuDNN algorithm,
     * which sums in another order; on resnet8's probabilities that fp32 rounding stays far below
     * 1e-5, while an item answered with another item's probabilities is off by far more.
     */
    @Test
    void batchedItemsOnTheGpuGetTheirOwnProbabilities() throws Exception {
        try (CudaBackend gpu = CudaTestSupport.backendOrSkip(CudaOptions.defaults().withDeterministic(true));
                Model model = Zoo.build("resnet8", gpu, 4);
                BatchingPredictor batcher = BatchingPredictor.builder(model).optMaxBatch(16).build()) {
            Rand rand = new Rand(9);
            List<float[]> inputs = new ArrayList<>();
            List<float[]> expected = new ArrayList<>();
            for (int i = 0; i < 256; i++) {
                inputs.add(rand.uniform(784, -1, 1));
                expected.add(model.predict(inputs.get(i)));
            }
            List<CompletableFuture<float[]>> answers = new ArrayList<>();
            for (float[] x : inputs) {
                answers.add(batcher.submit(x));
            }
            for (int i = 0; i < inputs.size(); i++) {
                Close.assertClose("item " + i, expected.get(i), answers.get(i).get(60, TimeUnit.SECONDS), 1e-5, 0);
            }
        }
    }
}
