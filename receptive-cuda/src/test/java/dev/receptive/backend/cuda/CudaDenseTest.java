package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.backend.DenseContract;

class CudaDenseTest extends DenseContract {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.backendOrSkip();
    }
}
