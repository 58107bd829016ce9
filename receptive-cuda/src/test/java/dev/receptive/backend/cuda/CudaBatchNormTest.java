package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.backend.BatchNormContract;

class CudaBatchNormTest extends BatchNormContract {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.backendOrSkip();
    }
}
