package dev.receptive.backend.cpu;

import dev.receptive.backend.Backend;
import dev.receptive.backend.FusedContract;

class CpuFusedTest extends FusedContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(3);
    }
}
