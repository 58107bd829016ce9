package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.backend.cpu.CpuBackend;

class CpuAccumulationTest extends AccumulationContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend();
    }
}
