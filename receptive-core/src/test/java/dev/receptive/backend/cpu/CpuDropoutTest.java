package dev.receptive.backend.cpu;

import dev.receptive.backend.Backend;
import dev.receptive.backend.DropoutContract;

/** Three threads, so the masks are also checked against the single-threaded reference. */
class CpuDropoutTest extends DropoutContract {
    @Override
    protected Backend createBackend() {
        return new CpuBackend(3);
    }
}
