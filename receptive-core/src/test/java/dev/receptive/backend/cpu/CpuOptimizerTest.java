package dev.receptive.backend.cpu;

import dev.receptive.backend.Backend;
import dev.receptive.backend.OptimizerContract;

class CpuOptimizerTest extends OptimizerContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend();
    }
}
