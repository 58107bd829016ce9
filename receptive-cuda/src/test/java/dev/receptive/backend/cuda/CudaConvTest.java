package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.backend.ConvContract;

class CudaConvTest extends ConvContract {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.backendOrSkip();
    }
}
