package dev.receptive.backend.cuda;

import dev.receptive.backend.Backend;
import dev.receptive.backend.BackendDiagnosis;
import dev.receptive.backend.BackendOptions;
import dev.receptive.backend.BackendProvider;

/** Registers the CUDA backend with {@code Backends}: "auto" prefers it whenever {@link CudaProbe} passes. */
public final class CudaBackendProvider implements BackendProvider {
    /** Made by ServiceLoader. */
    public CudaBackendProvider() {
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public BackendDiagnosis diagnose() {
        CudaProbe probe = CudaProbe.probe();
        return new BackendDiagnosis(probe.facts(), probe.problems());
    }

    @Override
    public Backend create(BackendOptions options) {
        return new CudaBackend(CudaOptions.defaults().withDevice(options.device())
                .withDeterministic(options.deterministic()).withFastMath(options.fastMath()));
    }
}
