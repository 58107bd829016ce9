package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.backend.MergeContract;

class CudaMergeTest extends MergeContract {
    @Override
    protected Backend createBackend() {
        return CudaTestSupport.backendOrSkip();
    }
}
