package dev.receptive.backend;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A provider found through the test classpath's service file, so {@link Backends}' discovery is
 * tested without a GPU. It works only while {@link #working} says so; otherwise it reports one
 * problem with its fix, as a missing driver would. While {@link #failure} is set, create throws it,
 * as a device that fails to open. Its backends compute on a one-thread CPU backend but answer as a
 * device would: name "fake", {@link #CAPABILITIES}, {@link #FREE} bytes free.
 */
public final class FakeBackendProvider implements BackendProvider {
    static final BackendCapabilities CAPABILITIES = new BackendCapabilities("fake", "fake device 0",
            BackendCapabilities.Memory.DEVICE, 0, false, "fake kernels");
    static final long FREE = 3L << 30;
    static volatile boolean working;
    static volatile RuntimeException failure;
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
        if (failure != null) {
            throw failure;
        }
        CREATED.incrementAndGet();
        Backend cpu = Backends.create("cpu", options.withThreads(1));
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "name" -> "fake";
                    case "capabilities" -> CAPABILITIES;
                    case "freeMemory" -> FREE;
                    default -> {
                        try {
                            yield method.invoke(cpu, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    }
                });
    }
}
