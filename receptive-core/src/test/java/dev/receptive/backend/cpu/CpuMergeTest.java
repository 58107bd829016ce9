package dev.receptive.backend.cpu;

import dev.receptive.backend.Backend;
import dev.receptive.backend.MergeContract;

class CpuMergeTest extends MergeContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend();
    }
}
