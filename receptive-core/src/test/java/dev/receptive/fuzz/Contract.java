package dev.receptive.fuzz;

import dev.receptive.testing.Allocation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * What every fuzz target asserts about a reader: for any input it returns a valid object or
 * throws one of the documented exception types with a message (naming the file, where it reads
 * one, and for binary formats not ending in ": null"); never another exception, never allocates more than a bound, never takes more than
 * {@link #MAX_NANOS}. The heap of the fuzz JVM is small (receptive-core/pom.xml), so a large
 * allocation fails even where it is not measured.
 */
final class Contract {

    /** The code under test. */
    @FunctionalInterface
    interface Reader<T> {
        T read() throws Exception;
    }

    /**
     * The most one input may take. Also each target's {@code @Timeout}, which stops a hang in
     * regression mode and becomes libFuzzer's -timeout when fuzzing.
     */
    static final long MAX_NANOS = 10_000_000_000L;
    private static final Path DIR = scratchFolder();
    private static final java.util.Set<Path> CREATED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final List<Class<? extends Exception>> documented;
    private final long fixedBytes;
    private final long bytesPerInputByte;
    private String mustName;
    private boolean refuseNullSuffix;

    /**
     * @param fixedBytes plus bytesPerInputByte · input length: the most a call may allocate
     * @param documented the exception types the reader documents for bad input
     */
    @SafeVarargs
    Contract(long fixedBytes, long bytesPerInputByte, Class<? extends Exception>... documented) {
        this.documented = Arrays.asList(documented);
        this.fixedBytes = fixedBytes;
        this.bytesPerInputByte = bytesPerInputByte;
    }

    /**
     * Messages must not end in ": null", the sign of a cause without a message pasted in. Only
     * for readers whose messages never quote the file's text (a JSON key may well be "null").
     */
    Contract refusingNullSuffix() {
        this.refuseNullSuffix = true;
        return this;
    }

    /** Messages must contain this (the file's path). */
    Contract naming(Path file) {
        return naming(file.toString());
    }

    /** Messages must contain this (the name given with bytes in memory). */
    Contract naming(String name) {
        this.mustName = name;
        return this;
    }

    /**
     * Runs the reader on an input of {@code inputBytes} bytes: its result (null when it refused
     * the input as documented), or an AssertionError / the undocumented exception itself.
     */
    <T> T check(long inputBytes, Reader<T> reader) throws Exception {
        return check(inputBytes, reader, result -> 0);
    }

    /**
     * As {@link #check(long, Reader)}, allowing a result to hold {@code declared} bytes more
     * than the bound: what a valid input legitimately asks for (an architecture's parameters,
     * which a few bytes of JSON may declare), as opposed to what reading the input costs.
     */
    <T> T check(long inputBytes, Reader<T> reader, java.util.function.ToLongFunction<T> declared) throws Exception {
        long base = fixedBytes + bytesPerInputByte * inputBytes;
        Outcome<T> first = run(reader);
        Outcome<T> judged = first;
        long bound = base + (first.result == null ? 0 : declared.applyAsLong(first.result));
        if (first.allocated > bound) {
            // The first run of a code path loads and initializes classes (and, while fuzzing,
            // instruments them): allocation that is not the input's. Readers only read, so the
            // input is judged again on a second run.
            close(first.result);
            judged = run(reader);
            bound = base + (judged.result == null ? 0 : declared.applyAsLong(judged.result));
        }
        if (judged.failure != null) {
            throw judged.failure;
        }
        if (judged.nanos > MAX_NANOS) {
            close(judged.result);
            throw new AssertionError("took " + judged.nanos / 1_000_000 + " ms for an input of " + inputBytes + " bytes");
        }
        if (judged.allocated > bound) {
            close(judged.result);
            throw new AssertionError("allocated " + judged.allocated + " bytes for an input of " + inputBytes
                    + " bytes (bound " + bound + ")");
        }
        return judged.result;
    }

    private record Outcome<T>(T result, Exception failure, long allocated, long nanos) {
    }

    private <T> Outcome<T> run(Reader<T> reader) {
        long start = System.nanoTime();
        long before = Allocation.bytes();
        T result = null;
        Exception failure = null;
        try {
            result = reader.read();
        } catch (Exception e) {
            failure = judge(e);
        }
        return new Outcome<>(result, failure, Allocation.bytes() - before,
                System.nanoTime() - start);
    }

    /** Null for a documented exception with a proper message, else what the target throws. */
    private Exception judge(Exception e) {
        if (documented.stream().noneMatch(type -> type.isInstance(e))) {
            return e;
        }
        String m = e.getMessage();
        if (m == null || m.isBlank() || (refuseNullSuffix && m.endsWith(": null"))
                || (mustName != null && !m.contains(mustName))) {
            return new IllegalStateException("documented " + e.getClass().getSimpleName() + " without a proper message"
                    + (mustName != null ? " naming " + mustName : "") + ": " + m, e);
        }
        return null;
    }

    private static void close(Object result) throws Exception {
        if (result instanceof AutoCloseable c) {
            c.close();
        }
    }

    private static Path scratchFolder() {
        try {
            Path dir = Files.createTempDirectory("receptive-fuzz-");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A scratch file per target and thread, rewritten for each input. */
    static Path file(String name, byte[] content) {
        try {
            Path file = DIR.resolve(Thread.currentThread().getId() + "-" + name);
            if (CREATED.add(file)) {
                file.toFile().deleteOnExit(); // before the folder's, which was registered first
            }
            Files.write(file, content);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
