package dev.receptive.backend.cpu;

import dev.receptive.backend.Backend;
import dev.receptive.backend.PoolContract;

class CpuPoolTest extends PoolContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend();
    }
}
