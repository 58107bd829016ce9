package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.backend.OptimizerContract;

class CudaOptimizerTest extends OptimizerContract {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.backendOrSkip();
    }
}
