package dev.receptive.backend.cpu;

import dev.receptive.backend.Backend;
import dev.receptive.backend.LossContract;

class CpuLossTest extends LossContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend();
    }
}
