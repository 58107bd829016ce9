package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.receptive.nn.Model;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Predictor;
import dev.receptive.nn.Workspace;
import dev.receptive.testing.Rand;
import dev.receptive.zoo.Zoo;
import java.util.ArrayList;
import java.util.List;
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
            List<float[]> expected = new ArrayList<>();
            try (Workspace ws = model.newWorkspace()) {
                for (float[] x : inputs) {
                    expected.add(ws.forward(x, Pass.EVAL).toArray());
                }
            }
            Predictor predictor = model.predictor();
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
}
