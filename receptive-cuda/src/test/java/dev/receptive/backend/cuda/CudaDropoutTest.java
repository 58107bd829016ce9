package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.backend.DropoutContract;

class CudaDropoutTest extends DropoutContract {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.backendOrSkip();
    }
}
