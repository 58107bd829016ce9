package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.backend.PoolContract;

class CudaPoolTest extends PoolContract {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.backendOrSkip();
    }
}
