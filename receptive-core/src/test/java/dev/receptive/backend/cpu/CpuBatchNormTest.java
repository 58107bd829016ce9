package dev.receptive.backend.cpu;

import dev.receptive.backend.Backend;
import dev.receptive.backend.BatchNormContract;

class CpuBatchNormTest extends BatchNormContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(3);
    }
}
