package dev.receptive.backend.cpu;

import dev.receptive.backend.Backend;
import dev.receptive.backend.ConvContract;

class CpuConvTest extends ConvContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(3);
    }
}
