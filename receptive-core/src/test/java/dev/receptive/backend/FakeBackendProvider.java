package dev.receptive.backend;

import dev.receptive.backend.cpu.CpuBackend;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A provider found through the test classpath's service file, so {@link Backends}' discovery is
 * tested without a GPU. It works only while {@link #working} says so; otherwise it reports one
 * problem with its fix, as a missing driver would. Its backends are CPU backends.
 */
public final class FakeBackendProvider implements BackendProvider {
    static volatile boolean working;
    static final AtomicInteger CREATED = new AtomicInteger();

    @Override
    public String name() {
        return "fake";
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public BackendDiagnosis diagnose() {
        return working ? new BackendDiagnosis(Map.of("fake device", "present"), List.of())
                : new BackendDiagnosis(Map.of("fake device", "NOT USABLE"), List.of("no fake device: plug one in"));
    }

    @Override
    public Backend create(BackendOptions options) {
        CREATED.incrementAndGet();
        return new CpuBackend(1);
    }
}
