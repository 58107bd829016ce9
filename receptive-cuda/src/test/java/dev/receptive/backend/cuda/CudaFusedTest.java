package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.backend.FusedContract;

class CudaFusedTest extends FusedContract {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.backendOrSkip();
    }
}
