package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.backend.LossContract;

class CudaLossTest extends LossContract {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.backendOrSkip();
    }

    @Override
    protected boolean reportsBadLossInputByThrowing() {
        return false;
    }
}
