package dev.receptive.backend.cpu;

import dev.receptive.backend.Backend;
import dev.receptive.backend.DenseContract;

class CpuDenseTest extends DenseContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(3);
    }
}
