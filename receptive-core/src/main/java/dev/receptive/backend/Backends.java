package dev.receptive.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The one place that chooses the engine. Every engine registers a {@link BackendProvider} that
 * {@link ServiceLoader} finds on the classpath: receptive-core's "cpu" (always available, priority
 * 0), receptive-cuda's "cuda". The choice is "auto" or a provider's name; when the caller passes none
 * (null), the system property {@value #PROPERTY}, then the environment variable {@value #ENV}, then
 * "auto" decide. "auto" takes the working provider of highest priority, so the CPU when nothing
 * else works, and says in one line why it passed the others over (as a warning through
 * System.Logger unless the caller takes the line). A named backend never falls back: it fails with
 * the reason and its fix.
 *
 * <p>Thread-safe.
 */
public final class Backends {
    /** The system property that chooses the backend when the caller does not. */
    public static final String PROPERTY = "receptive.backend";
    /** The environment variable that chooses the backend when neither caller nor property does. */
    public static final String ENV = "RECEPTIVE_BACKEND";
    private static final System.Logger LOG = System.getLogger(Backends.class.getName());
    /** Why the CPU, which receptive-core registers, can be missing, and the fix. */
    private static final String LOST_CPU = "the cpu backend is not registered: a jar was built from receptive-core"
            + " without its META-INF/services/dev.receptive.backend.BackendProvider (or another module's file of that"
            + " name replaced it); merge these files (maven-shade-plugin's ServicesResourceTransformer does)";

    private Backends() {
    }

    /**
     * The backend of a choice with default options; a fallback of "auto" is logged as a warning.
     *
     * @param choice "auto", a provider's name ("cpu", "cuda"), or null for the property, else the
     *     environment variable, else "auto"
     * @return the backend; the caller owns it and closes it
     * @throws IllegalArgumentException for an unknown choice, or options the backend refuses
     * @throws IllegalStateException when the named backend (for "auto": every backend) cannot run
     *     here, with the reason
     */
    public static Backend create(String choice) {
        return create(choice, BackendOptions.defaults());
    }

    /**
     * The backend of a choice with options; a fallback of "auto" is logged as a warning.
     *
     * @param choice as in {@link #create(String)}
     * @param options threads, device, determinism and fast math; each backend reads those it has
     * @return the backend; the caller owns it and closes it
     * @throws IllegalArgumentException for an unknown choice, or options the backend refuses
     * @throws IllegalStateException when the named backend (for "auto": every backend) cannot run
     *     here, with the reason
     */
    public static Backend create(String choice, BackendOptions options) {
        return create(choice, options, line -> LOG.log(System.Logger.Level.WARNING, line));
    }

    /**
     * The backend of a choice with options; when "auto" passes a provider over, the one-line reason
     * goes to {@code fallback} instead of the log.
     *
     * @param choice as in {@link #create(String)}
     * @param options threads, device, determinism and fast math; each backend reads those it has
     * @param fallback receives the reason when "auto" takes another backend than the first
     * @return the backend; the caller owns it and closes it
     * @throws IllegalArgumentException for an unknown choice, or options the backend refuses
     * @throws IllegalStateException when the named backend (for "auto": every backend) cannot run
     *     here, with the reason
     */
    public static Backend create(String choice, BackendOptions options, Consumer<String> fallback) {
        return create(choice, options, fallback, providers());
    }

    /** {@link #create(String, BackendOptions, Consumer)} among the given providers, highest priority first. */
    static Backend create(String choice, BackendOptions options, Consumer<String> fallback, List<BackendProvider> all) {
        String resolved = resolve(choice, all);
        if (!resolved.equals("auto")) {
            BackendProvider p = find(all, resolved).orElseThrow();
            BackendDiagnosis d = p.diagnose();
            if (!d.available()) {
                throw new IllegalStateException("backend " + p.name() + ": it cannot be used here: " + d.reason()
                        + " (or choose the cpu backend)");
            }
            return p.create(options);
        }
        List<String> why = new ArrayList<>();
        for (BackendProvider p : all) {
            BackendDiagnosis d = p.diagnose();
            if (!d.available()) {
                why.add(p.name() + " is not available: " + d.summary());
                continue;
            }
            Backend b;
            try {
                b = p.create(options);
            } catch (IllegalArgumentException e) {
                throw e; // the caller's options, not this machine, are at fault: no other backend fixes them
            } catch (RuntimeException e) {
                why.add(p.name() + " failed to start: " + e.getMessage());
                continue;
            }
            if (!why.isEmpty()) {
                fallback.accept("using the " + p.name().toUpperCase(Locale.ROOT) + " backend; " + String.join("; ", why));
            }
            return b;
        }
        if (find(all, "cpu").isEmpty()) {
            why.add(LOST_CPU);
        }
        throw new IllegalStateException("backend auto: no backend can run here; " + String.join("; ", why));
    }

    /**
     * Every backend found on the classpath, the CPU's included.
     *
     * @return their providers, highest priority first (the order "auto" tries them in)
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
     * @param name e.g. "cpu" or "cuda", in any case
     * @return the provider, or empty when its module is not on the classpath
     */
    public static Optional<BackendProvider> provider(String name) {
        return find(providers(), name);
    }

    private static Optional<BackendProvider> find(List<BackendProvider> all, String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return all.stream().filter(p -> p.name().equals(n)).findFirst();
    }

    /** The effective choice: the argument, else the property, else the environment, else "auto". */
    static String resolve(String choice) {
        return resolve(choice, providers());
    }

    /** {@link #resolve(String)} among the given providers. */
    static String resolve(String choice, List<BackendProvider> all) {
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
        if (n.equals("auto") || find(all, n).isPresent()) {
            return n;
        }
        List<String> known = Stream.concat(Stream.of("auto"), all.stream().map(BackendProvider::name).sorted()).toList();
        String last = known.get(known.size() - 1);
        String use = known.size() == 1 ? last : String.join(", ", known.subList(0, known.size() - 1)) + " or " + last;
        throw new IllegalArgumentException("backend: unknown choice '" + c + "'; use " + use
                + (n.equals("cuda") ? " (the cuda backend needs the receptive-cuda module on the classpath)" : "")
                + (n.equals("cpu") ? " (" + LOST_CPU + ")" : ""));
    }
}
