package dev.receptive.backend.cuda.internal;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import jcuda.JCudaVersion;
import jcuda.LibUtils;

/**
 * Checks a JCuda native against the CUDA library the dynamic loader would give it, before the
 * native is loaded: that the library defines every symbol version the native needs (a missing one
 * makes the loader refuse the native: "version `libcublas.so.13' not found"), and that it defines
 * every function Receptive calls through the native. The second matters more than it looks: the
 * JVM loads natives with lazy binding, so a function missing from the library is only noticed at
 * its first call, where the loader aborts the whole process ("symbol lookup error").
 *
 * <p>Libraries are found as the loader finds them, approximately: LD_LIBRARY_PATH, then the folders
 * of /etc/ld.so.conf, then the system library folders. A library not found there is left to the
 * loader (its message is turned into a fix when the native fails to load).
 */
public final class NativeLibraryCheck {
    /** The cuBLAS functions Receptive calls through JCublas2 (the C names: cuBLAS's v2 API adds "_v2" to some). */
    public static final Set<String> CUBLAS_CALLS = Set.of("cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2",
            "cublasSetMathMode", "cublasGetVersion_v2", "cublasGetProperty", "cublasSgemm_v2", "cublasGemmEx");

    /** The cuDNN functions Receptive calls through JCudnn. */
    public static final Set<String> CUDNN_CALLS = Set.of("cudnnGetVersion", "cudnnGetCudartVersion", "cudnnCreate",
            "cudnnDestroy", "cudnnSetStream", "cudnnCreateTensorDescriptor", "cudnnSetTensor4dDescriptor",
            "cudnnDestroyTensorDescriptor", "cudnnAddTensor", "cudnnConvolutionBackwardBias", "cudnnSoftmaxForward",
            "cudnnBatchNormalizationForwardTraining", "cudnnBatchNormalizationForwardInference",
            "cudnnBatchNormalizationBackward",
            "cudnnSoftmaxBackward", "cudnnCreateFilterDescriptor", "cudnnSetFilter4dDescriptor",
            "cudnnDestroyFilterDescriptor", "cudnnCreateConvolutionDescriptor", "cudnnSetConvolution2dDescriptor",
            "cudnnSetConvolutionMathType", "cudnnDestroyConvolutionDescriptor",
            "cudnnGetConvolutionForwardAlgorithmMaxCount", "cudnnGetConvolutionBackwardDataAlgorithmMaxCount",
            "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount", "cudnnFindConvolutionForwardAlgorithmEx",
            "cudnnFindConvolutionBackwardDataAlgorithmEx", "cudnnFindConvolutionBackwardFilterAlgorithmEx",
            "cudnnGetConvolutionForwardWorkspaceSize", "cudnnGetConvolutionBackwardDataWorkspaceSize",
            "cudnnGetConvolutionBackwardFilterWorkspaceSize", "cudnnConvolutionForward", "cudnnConvolutionBackwardData",
            "cudnnConvolutionBackwardFilter", "cudnnCreatePoolingDescriptor", "cudnnSetPooling2dDescriptor",
            "cudnnPoolingForward", "cudnnPoolingBackward", "cudnnDestroyPoolingDescriptor");

    /**
     * What the check found and what stops a native from working.
     *
     * @param facts what was found, key → value, in order
     * @param problems each mismatch with its fix; empty when the native fits its library
     */
    public record Report(Map<String, String> facts, List<String> problems) {
        /**
         * Copies both.
         *
         * @param facts what was found
         * @param problems what stops the native
         */
        public Report {
            facts = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(facts));
            problems = List.copyOf(problems);
        }
    }

    /** A JCuda native's bytes and where the JVM would load it from. */
    record NativeImage(String name, byte[] bytes, String from) {
    }

    private NativeLibraryCheck() {
    }

    /**
     * Checks the JCuda native {@code library} ("JCublas2", "JCudnn") as this JVM would load it
     * against the libraries named {@code prefix}* it needs, found on {@code searchPath}.
     *
     * @param library the JCuda library's base name
     * @param prefix the file-name prefix of the CUDA libraries to check ("libcublas")
     * @param calls the functions Receptive calls through the native
     * @param searchPath the folders to find the libraries in, in order
     * @return the facts and the problems found
     */
    public static Report check(String library, String prefix, Set<String> calls, List<Path> searchPath) {
        Map<String, String> facts = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        NativeImage image;
        try {
            image = jcudaNative(library);
        } catch (IOException | RuntimeException e) {
            facts.put(library + " native", "not checked: " + e.getMessage());
            return new Report(facts, problems);
        }
        check(image, prefix, calls, searchPath, facts, problems);
        return new Report(facts, problems);
    }

    /** The check of {@link #check(String, String, Set, List)} on a native already read. */
    static void check(NativeImage image, String prefix, Set<String> calls, List<Path> searchPath,
            Map<String, String> facts, List<String> problems) {
        Elf nat = Elf.of(image.bytes(), image.name());
        for (String needed : nat.needed()) {
            if (!needed.startsWith(prefix)) {
                continue;
            }
            Optional<Path> found = locate(needed, searchPath);
            if (found.isEmpty()) {
                facts.put(needed, "not found on LD_LIBRARY_PATH or in the system library folders");
                continue;
            }
            Path file = found.get();
            Elf lib;
            try {
                lib = Elf.read(file);
            } catch (IOException | IllegalArgumentException e) {
                problems.add(needed + " at " + file + " cannot be read as a shared library (" + e.getMessage()
                        + "): install it again and check LD_LIBRARY_PATH");
                continue;
            }
            Set<String> missingVersions = new TreeSet<>();
            List<String> versions = checkVersions(image, nat, needed, file, lib, missingVersions, problems);
            List<String> missingCalls = new ArrayList<>();
            Set<String> missingOther = new TreeSet<>();
            checkSymbols(nat, needed, lib, calls, missingVersions, missingCalls, missingOther);
            if (!missingCalls.isEmpty()) {
                problems.add(needed + " at " + file + " lacks " + String.join(", ", missingCalls) + ", which Receptive"
                        + " calls through " + image.name() + " (the JVM would abort at the first call): install the"
                        + " build of " + needed + " that " + image.name() + " was made for and put its folder first on"
                        + " LD_LIBRARY_PATH");
            }
            String value = file + " (" + (versions.isEmpty() ? "no symbol versions needed" : "versions " + versions
                    + (missingVersions.isEmpty() ? " defined" : " NOT all defined")) + "; " + (missingCalls.isEmpty()
                    ? "every function Receptive calls is there" : missingCalls.size() + " called functions missing");
            if (!missingOther.isEmpty()) {
                value += "; " + missingOther.size() + " functions the native wraps but Receptive never calls are missing, e.g. "
                        + String.join(", ", missingOther.stream().limit(3).toList());
            }
            facts.put(needed, value + ")");
        }
    }

    /** The version names the native needs from {@code needed}; a problem for each the library lacks. */
    private static List<String> checkVersions(NativeImage image, Elf nat, String needed, Path file, Elf lib,
            Set<String> missing, List<String> problems) {
        List<String> names = new ArrayList<>();
        List<String> defined = lib.versionDefinitions();
        for (Elf.NeededVersion v : nat.versionNeeds().getOrDefault(needed, List.of())) {
            names.add(v.name() + (v.weak() ? " (weak)" : ""));
            // A library without version definitions satisfies any requirement; a weak one may be missing.
            if (!v.weak() && lib.versioned() && !defined.contains(v.name())) {
                missing.add(v.name());
                boolean base = v.name().equals(lib.soname());
                problems.add(image.name() + " (from " + image.from() + ") needs symbol version '" + v.name() + "' of "
                        + needed + ", but " + file + " defines its symbols only in " + defined + (base
                        ? ": the loader would load the native (the library's base version has that name) and then"
                                + " abort the process at the first call (\"undefined symbol: ..., version " + v.name()
                                + "\")"
                        : ", so the loader would refuse it (\"version `" + v.name() + "' not found\")")
                        + ": retarget the native with ElfNeededRetarget, which drops a version the library lacks"
                        + " (docs/cuda.md), or put a " + needed + " that defines it first on LD_LIBRARY_PATH");
            }
        }
        return names;
    }

    /** Splits the functions the native needs that {@code lib} lacks into those Receptive calls and the rest. */
    private static void checkSymbols(Elf nat, String needed, Elf lib, Set<String> calls, Set<String> missingVersions,
            List<String> missingCalls, Set<String> missingOther) {
        Set<String> versionNames = new LinkedHashSet<>();
        Set<String> weak = new LinkedHashSet<>();
        for (Elf.NeededVersion v : nat.versionNeeds().getOrDefault(needed, List.of())) {
            versionNames.add(v.name());
            if (v.weak()) {
                weak.add(v.name());
            }
        }
        Map<String, List<Elf.Symbol>> defined = new HashMap<>();
        for (Elf.Symbol s : lib.symbols()) {
            if (s.defined()) {
                defined.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(s);
            }
        }
        boolean versionedLib = lib.versioned();
        for (Elf.Symbol ref : nat.symbols()) {
            if (ref.defined() || ref.name().isEmpty()) {
                continue;
            }
            boolean mine = ref.version() == null ? calls.contains(ref.name()) || ref.name().startsWith(prefixOf(needed))
                    : versionNames.contains(ref.version());
            if (!mine || ref.version() != null && missingVersions.contains(ref.version())) {
                continue; // a missing version is reported as such, not symbol by symbol
            }
            String version = ref.version() == null || weak.contains(ref.version()) || !versionedLib ? null : ref.version();
            boolean ok = false;
            for (Elf.Symbol d : defined.getOrDefault(ref.name(), List.of())) {
                ok |= version == null ? !d.hidden() : version.equals(d.version());
            }
            if (!ok) {
                (calls.contains(ref.name()) ? missingCalls : missingOther).add(ref.name());
            }
        }
    }

    /** "libcublas.so.13" → "cublas": the prefix of the library's function names. */
    private static String prefixOf(String soname) {
        String base = soname.startsWith("lib") ? soname.substring(3) : soname;
        int dot = base.indexOf('.');
        return dot > 0 ? base.substring(0, dot) : base;
    }

    // ---- finding files ------------------------------------------------------------------

    /** The first {@code soname} in {@code dirs}. */
    static Optional<Path> locate(String soname, List<Path> dirs) {
        for (Path d : dirs) {
            Path f = d.resolve(soname);
            if (Files.isRegularFile(f)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /**
     * Where the dynamic loader looks, approximately.
     *
     * @return LD_LIBRARY_PATH, the folders of /etc/ld.so.conf (one level of includes) and the
     *     system library folders, in that order
     */
    public static List<Path> loaderSearchPath() {
        Set<Path> dirs = new LinkedHashSet<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String d : ld.split(":")) {
                if (!d.isEmpty()) {
                    dirs.add(Path.of(d));
                }
            }
        }
        readConf(Path.of("/etc/ld.so.conf"), dirs, true);
        for (String d : new String[] {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
            "/lib", "/usr/lib"}) {
            dirs.add(Path.of(d));
        }
        return List.copyOf(dirs);
    }

    private static void readConf(Path conf, Set<Path> dirs, boolean followIncludes) {
        List<String> lines;
        try {
            lines = Files.readAllLines(conf);
        } catch (IOException | RuntimeException e) {
            return;
        }
        for (String raw : lines) {
            String line = raw.replaceAll("#.*", "").trim();
            if (line.startsWith("include ") && followIncludes) {
                String pattern = line.substring(8).trim();
                Path dir = Path.of(pattern).getParent();
                String glob = Path.of(pattern).getFileName().toString();
                try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, glob)) {
                    List<Path> sorted = new ArrayList<>();
                    files.forEach(sorted::add);
                    sorted.stream().sorted().forEach(f -> readConf(f, dirs, false));
                } catch (IOException | RuntimeException e) {
                    // an unreadable include adds no folders
                }
            } else if (line.startsWith("/")) {
                dirs.add(Path.of(line));
            }
        }
    }

    /**
     * The JCuda native {@code library} as the JVM would load it: the file on java.library.path
     * (JCuda's loader tries there first), else the copy in the jar.
     */
    static NativeImage jcudaNative(String library) throws IOException {
        String file = System.mapLibraryName(LibUtils.createPlatformLibraryName(library + "-" + JCudaVersion.get()));
        for (String dir : System.getProperty("java.library.path", "").split(File.pathSeparator)) {
            Path f = dir.isEmpty() ? null : Path.of(dir, file);
            if (f != null && Files.isRegularFile(f)) {
                return new NativeImage(library, Files.readAllBytes(f), f.toString());
            }
        }
        try (InputStream in = NativeLibraryCheck.class.getResourceAsStream("/lib/" + file)) {
            if (in == null) {
                throw new IOException(file + " is neither on java.library.path nor in the JCuda jars");
            }
            return new NativeImage(library, in.readAllBytes(), "the JCuda jar");
        }
    }

    /**
     * Prints the check of the JCublas2 and JCudnn natives as this JVM would load them; exit status 1
     * when a problem was found.
     *
     * @param args none
     */
    public static void main(String[] args) {
        List<Path> path = loaderSearchPath();
        boolean ok = true;
        for (String[] lib : new String[][] {{"JCublas2", "libcublas"}, {"JCudnn", "libcudnn"}}) {
            Report r = check(lib[0], lib[1], lib[0].equals("JCublas2") ? CUBLAS_CALLS : CUDNN_CALLS, path);
            r.facts().forEach((k, v) -> System.out.println(lib[0] + ": " + k + ": " + v));
            for (String p : r.problems()) {
                System.out.println(lib[0] + ": PROBLEM: " + p);
                ok = false;
            }
        }
        System.exit(ok ? 0 : 1);
    }
}
