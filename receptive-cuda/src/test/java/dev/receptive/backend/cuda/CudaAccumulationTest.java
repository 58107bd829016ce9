package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.nn.AccumulationContract;

class CudaAccumulationTest extends AccumulationContract {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.backendOrSkip();
    }
}
