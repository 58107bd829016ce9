package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.backend.ActivationContract;

class CudaActivationTest extends ActivationContract {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.backendOrSkip();
    }
}
