package dev.receptive.backend.cpu;

import dev.receptive.backend.ActivationContract;
import dev.receptive.backend.Backend;

class CpuActivationTest extends ActivationContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend();
    }
}
