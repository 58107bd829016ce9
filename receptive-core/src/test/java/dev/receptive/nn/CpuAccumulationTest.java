package dev.receptive.nn;

import dev.receptive.backend.Backend;
import dev.receptive.testing.TestBackends;

class CpuAccumulationTest extends AccumulationContract {
    @Override
    protected Backend createBackend() {
        return TestBackends.cpu();
    }
}
