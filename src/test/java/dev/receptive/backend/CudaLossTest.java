package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.cuda.CudaTestSupport;
import dev.receptive.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The loss contract on the GPU. It lives in this package only to replace the contract's two
 * bad-input tests (package-private there): the op contract lets a backend skip checks it cannot
 * make without waiting for the device, and the CUDA backend reports NaN input and bad labels as a
 * NaN loss (and NaN gradient rows) instead of throwing.
 */
class CudaLossTest extends LossContract {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.backendOrSkip();
    }

    @Override
    @Test
    void nanInputsAreReported() {
        float[] z = {0, 1, Float.NaN, 2};
        Tensor loss = zeros(1);
        backend.softmaxCrossEntropy(loss, zeros(2, 2), t(z, 2, 2), t(new float[] {0, 1}, 2));
        assertTrue(Float.isNaN(get(loss)[0]), "softmaxCrossEntropy of NaN logits");
        backend.hingeLoss(loss, null, t(z, 2, 2), t(new float[] {0, 1}, 2));
        assertTrue(Float.isNaN(get(loss)[0]), "hingeLoss of NaN scores");
        backend.meanSquaredError(loss, zeros(4), t(z, 4), t(new float[4], 4));
        assertTrue(Float.isNaN(get(loss)[0]), "meanSquaredError of NaN predictions");
        backend.meanSquaredError(loss, null, t(new float[4], 4), t(z, 4));
        assertTrue(Float.isNaN(get(loss)[0]), "meanSquaredError of NaN targets");
    }

    @Override
    @Test
    void badLabelsAreReported() {
        float[] z = new float[6];
        for (float bad : new float[] {2.5f, -1, 3, Float.NaN}) {
            Tensor loss = zeros(1);
            Tensor dz = zeros(2, 3);
            backend.softmaxCrossEntropy(loss, dz, t(z, 2, 3), t(new float[] {0, bad}, 2));
            assertTrue(Float.isNaN(get(loss)[0]), "softmaxCrossEntropy with label " + bad);
            assertTrue(Float.isNaN(get(dz)[3]) && !Float.isNaN(get(dz)[0]), "only the bad row's gradient is NaN");
            backend.hingeLoss(loss, dz, t(z, 2, 3), t(new float[] {0, bad}, 2));
            assertTrue(Float.isNaN(get(loss)[0]), "hingeLoss with label " + bad);
        }
    }
}
