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
                .withDeterministic(options.deterministic()).withFastMath(options.fastMath())
                .withPrecision(precision(System.getProperty(PRECISION_PROPERTY), System.getenv(PRECISION_VARIABLE))));
    }

    /** The system property that names the precision (fp32, tf32, bf16); the command line's --precision sets it. */
    public static final String PRECISION_PROPERTY = "receptive.cuda.precision";

    /** The environment variable read when the property is not set. */
    public static final String PRECISION_VARIABLE = "RECEPTIVE_PRECISION";

    /** The property's value, else the variable's, else fp32; a bad name throws, naming the modes. */
    static CudaOptions.Precision precision(String property, String variable) {
        String name = property != null && !property.isBlank() ? property : variable;
        return name == null || name.isBlank() ? CudaOptions.Precision.FP32 : CudaOptions.Precision.parse(name);
    }
}
