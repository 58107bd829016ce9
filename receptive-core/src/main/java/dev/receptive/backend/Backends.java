package dev.receptive.backend;

import dev.receptive.backend.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The one place that chooses the engine. The choice is "auto", "cpu" or the name of a backend
 * found on the classpath through {@link BackendProvider} ("cuda" with receptive-cuda); when the
 * caller passes none (null), the system property {@value #PROPERTY}, then the environment variable
 * {@value #ENV}, then "auto" decide. "auto" takes the working provider of highest priority and
 * otherwise the CPU backend, reporting why in one line (as a warning through System.Logger unless
 * the caller takes the line). A named backend never falls back: it fails with the reason and its fix.
 *
 * <p>Thread-safe.
 */
public final class Backends {
    /** The system property that chooses the backend when the caller does not. */
    public static final String PROPERTY = "receptive.backend";
    /** The environment variable that chooses the backend when neither caller nor property does. */
    public static final String ENV = "RECEPTIVE_BACKEND";
    private static final System.Logger LOG = System.getLogger(Backends.class.getName());

    private Backends() {
    }

    /**
     * The backend of a choice with default options; a fallback of "auto" is logged as a warning.
     *
     * @param choice "auto", "cpu", a provider's name such as "cuda", or null for the property,
     *     else the environment variable, else "auto"
     * @return the backend; the caller owns it and closes it
     * @throws IllegalArgumentException for an unknown choice
     * @throws IllegalStateException when the named backend cannot run here, with the reason
     */
    public static Backend create(String choice) {
        return create(choice, BackendOptions.defaults());
    }

    /**
     * The backend of a choice with options; a fallback of "auto" is logged as a warning.
     *
     * @param choice as in {@link #create(String)}
     * @param options device, determinism and fast math (the CPU backend ignores them)
     * @return the backend; the caller owns it and closes it
     * @throws IllegalArgumentException for an unknown choice
     * @throws IllegalStateException when the named backend cannot run here, with the reason
     */
    public static Backend create(String choice, BackendOptions options) {
        return create(choice, options, line -> LOG.log(System.Logger.Level.WARNING, line));
    }

    /**
     * The backend of a choice with options; when "auto" falls back to the CPU, the one-line reason
     * goes to {@code fallback} instead of the log.
     *
     * @param choice as in {@link #create(String)}
     * @param options device, determinism and fast math (the CPU backend ignores them)
     * @param fallback receives the reason when "auto" falls back to the CPU
     * @return the backend; the caller owns it and closes it
     * @throws IllegalArgumentException for an unknown choice
     * @throws IllegalStateException when the named backend cannot run here, with the reason
     */
    public static Backend create(String choice, BackendOptions options, Consumer<String> fallback) {
        String resolved = resolve(choice);
        if (resolved.equals("cpu")) {
            return new CpuBackend();
        }
        if (!resolved.equals("auto")) {
            BackendProvider p = provider(resolved).orElseThrow();
            BackendDiagnosis d = p.diagnose();
            if (!d.available()) {
                throw new IllegalStateException("backend " + p.name() + ": it cannot be used here: " + d.reason()
                        + " (or choose the cpu backend)");
            }
            return p.create(options);
        }
        List<String> why = new ArrayList<>();
        for (BackendProvider p : providers()) {
            BackendDiagnosis d = p.diagnose();
            if (!d.available()) {
                why.add(p.name() + " is not available: " + d.summary());
                continue;
            }
            try {
                return p.create(options);
            } catch (RuntimeException e) {
                why.add(p.name() + " failed to start: " + e.getMessage());
            }
        }
        if (!why.isEmpty()) {
            fallback.accept("using the CPU backend; " + String.join("; ", why));
        }
        return new CpuBackend();
    }

    /**
     * The backends found on the classpath besides the CPU.
     *
     * @return their providers, highest priority first
     */
    public static List<BackendProvider> providers() {
        List<BackendProvider> all = new ArrayList<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())) {
            all.add(p);
        }
        all.sort(Comparator.comparingInt(BackendProvider::priority).reversed().thenComparing(BackendProvider::name));
        return all;
    }

    /**
     * A provider by name.
     *
     * @param name e.g. "cuda", in any case
     * @return the provider, or empty when its module is not on the classpath
     */
    public static Optional<BackendProvider> provider(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return providers().stream().filter(p -> p.name().equals(n)).findFirst();
    }

    /** The effective choice: the argument, else the property, else the environment, else "auto". */
    static String resolve(String choice) {
        String c = choice;
        if (c == null || c.isBlank()) {
            c = System.getProperty(PROPERTY);
        }
        if (c == null || c.isBlank()) {
            c = System.getenv(ENV);
        }
        if (c == null || c.isBlank()) {
            return "auto";
        }
        String n = c.trim().toLowerCase(Locale.ROOT);
        if (n.equals("auto") || n.equals("cpu") || provider(n).isPresent()) {
            return n;
        }
        String known = providers().stream().map(BackendProvider::name).collect(Collectors.joining(", "));
        throw new IllegalArgumentException("backend: unknown choice '" + c + "'; use auto, cpu"
                + (known.isEmpty() ? "" : " or " + known)
                + (n.equals("cuda") ? " (the cuda backend needs the receptive-cuda module on the classpath)" : ""));
    }
}
