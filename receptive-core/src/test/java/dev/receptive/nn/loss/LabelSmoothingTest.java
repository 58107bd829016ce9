package dev.receptive.nn.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.Rand;
import dev.receptive.testing.TestBackends;
import org.junit.jupiter.api.Test;

/** Label smoothing against PyTorch's formula, computed here in double. */
class LabelSmoothingTest {
    @Test
    void lossAndGradientAreThoseOfTheSmoothedTarget() {
        int n = 5;
        int k = 4;
        double eps = 0.1;
        Rand rand = new Rand(2);
        float[] z = rand.uniform(n * k, -3, 3);
        float[] labels = {0, 3, 1, 1, 2};
        double loss = 0;
        double[] grad = new double[n * k];
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) {
                max = Math.max(max, z[i * k + j]);
            }
            double sum = 0;
            for (int j = 0; j < k; j++) {
                sum += Math.exp(z[i * k + j] - max);
            }
            for (int j = 0; j < k; j++) {
                double logp = z[i * k + j] - max - Math.log(sum);
                double q = (j == (int) labels[i] ? 1 - eps : 0) + eps / k;
                loss -= q * logp / n;
                grad[i * k + j] = (Math.exp(logp) - q) / n;
            }
        }
        try (Backend b = TestBackends.cpu(1); Loss smooth = Loss.softmaxCrossEntropy(eps);
                Tensor tz = b.upload(z, Shape.of(n, k)); Tensor tl = b.upload(labels, Shape.of(n))) {
            Tensor l = smooth.compute(tz, tl);
            Close.assertClose("loss", loss, l.toArray()[0], 1e-6, 1e-5);
            Close.assertClose("gradient", grad, smooth.gradient().toArray(), 1e-7, 1e-5);
            assertEquals("softmaxCrossEntropy(labelSmoothing=0.1)", smooth.name());
        }
        assertEquals("softmaxCrossEntropy", Loss.softmaxCrossEntropy(0).name());
        assertThrows(IllegalArgumentException.class, () -> Loss.softmaxCrossEntropy(1));
    }
}
