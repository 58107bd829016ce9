package dev.receptive.backend.cpu;

import dev.receptive.backend.AdamParams;
import dev.receptive.backend.Conv2dParams;
import dev.receptive.tensor.Shape;
import java.lang.System.Logger.Level;
import java.util.Optional;

/**
 * The CPU kernels written with the Vector API ({@code jdk.incubator.vector}), chosen at run time
 * the way Apache Lucene ships its Panama code: when the JVM was started with that module, the
 * implementation is loaded reflectively; otherwise the scalar kernels run and one warning says
 * how to enable these. Nothing else in the backend links an incubator class.
 *
 * <p>Both paths compute the same ops to fp32 rounding, each with results that do not depend on
 * the thread count. Methods returning false did not handle the geometry: their caller
 * ({@link VectorApiKernels}, or {@link CpuPool} for a row of windows) then runs the scalar reference.
 */
interface VectorKernels {
    /** Set to "false" to force the scalar kernels (the tests run the contract suites both ways). */
    String PROPERTY = "receptive.cpu.vector";

    /** 16 or 32: overrides the register file the tiles are sized for (see {@link #registers}). */
    String REGISTERS_PROPERTY = "receptive.cpu.registers";

    /**
     * Vector registers of the machine's register file, which sizes the tiles: 32 with AVX-512 and
     * on ARM (NEON and SVE have 32 at every width), 16 with SSE and AVX2. A setting of
     * {@value #REGISTERS_PROPERTY} (16 or 32) overrides it, so that one machine can run and test
     * the tiles of the others (with -XX:MaxVectorSize=16 or 32 for their widths).
     *
     * @param setting the property's value or null; lanes: floats per preferred vector; arch: os.arch
     */
    static int registers(String setting, int lanes, String arch) {
        if (setting != null && !setting.isBlank()) {
            String r = setting.trim();
            if (!r.equals("16") && !r.equals("32")) {
                throw new IllegalArgumentException(REGISTERS_PROPERTY + " must be 16 or 32, got " + setting);
            }
            return Integer.parseInt(r);
        }
        return lanes >= 16 || "aarch64".equals(arch) ? 32 : 16;
    }

    /** e.g. "Vector API, 512-bit". */
    String description();

    /** Bits of the preferred vector the kernels use: 512 with AVX-512, 256 with AVX2, 128 with NEON or SSE. */
    int vectorBits();

    /** y = x·wᵀ + b, then max(y, 0) as the ReLU kernel computes it when relu (the same bits as the two ops). */
    void denseForward(CpuParallel par, float[] y, float[] x, float[] w, float[] b, int n, int in, int out,
            boolean relu);

    void denseBackward(CpuParallel par, float[] dx, float[] dw, float[] db, float[] dy, float[] x, float[] w, int n,
            int in, int out, boolean accumulate);

    /** The convolution plus b, then max(y, 0) as the ReLU kernel computes it when relu (the same bits as the two ops). */
    boolean conv2dForward(CpuParallel par, float[] y, float[] x, float[] w, float[] b, Shape xs, Shape ws, Shape ys,
            Conv2dParams p, boolean relu);

    boolean conv2dBackwardData(CpuParallel par, float[] dx, float[] dy, float[] w, Shape xs, Shape ws, Shape ys,
            Conv2dParams p);

    boolean conv2dBackwardFilter(CpuParallel par, float[] dw, float[] x, float[] dy, Shape xs, Shape ws, Shape ys,
            Conv2dParams p, boolean accumulate);

    /** db: (K) (+)= Σ_{n,p,q} dy: (N, K, P, Q). */
    void conv2dBackwardBias(CpuParallel par, float[] db, float[] dy, int n, int k, int pq, boolean accumulate);

    /**
     * Max pooling's backward pass over one pair of input rows of 2×2 windows at stride 2: the q
     * windows whose top-left inputs are x[row + 2·j] (rows w apart) and whose outputs are
     * y[out + j]. dy goes to each window's first (row-major) input equal to y, or its first NaN,
     * and the window's other inputs get 0, as the scalar kernel. Only dx before planeEnd is
     * written (the rest belongs to other work); returns false, having done nothing, when the
     * vector kernel would need to reach past it.
     *
     * @throws IllegalArgumentException if some y is not in its window
     */
    boolean maxPool2x2BackwardRow(float[] dx, float[] dy, float[] x, float[] y, int row, int out, int w, int q,
            int planeEnd);

    /** dx = y &gt; 0 ? dy : 0 over n elements (ReLU's gradient through its output). */
    void reluBackward(CpuParallel par, float[] dx, float[] dy, float[] y, int n);

    /** One Adam/AdamW step over n elements: the same float operations as the scalar kernel, so the same bits. */
    void adamUpdate(CpuParallel par, float[] w, float[] dw, float[] m, float[] v, int n, AdamParams p);

    /** The Vector API kernels when this JVM can run them well, else empty (logged once). */
    static Optional<VectorKernels> load() {
        return Holder.CHOICE.kernels();
    }

    /**
     * Why this JVM runs the kernels it runs, for a diagnosis.
     *
     * @return e.g. "Vector API, 512-bit" or "scalar (the preferred vector is 64-bit)"
     */
    static String why() {
        return Holder.CHOICE.why();
    }

    /** The kernels chosen, and the reason in words. */
    record Choice(Optional<VectorKernels> kernels, Level level, String why) {
    }

    /** Decides once per JVM. */
    final class Holder {
        private static final System.Logger LOG = System.getLogger(VectorKernels.class.getName());
        static final Choice CHOICE = choose(System.getProperty(PROPERTY));

        static {
            LOG.log(CHOICE.level(), "CPU kernels: " + CHOICE.why());
        }

        private Holder() {
        }

        /** The choice for a value of {@value #PROPERTY} (null when unset); loads the Vector API kernels if it can. */
        static Choice choose(String setting) {
            if (setting != null && "false".equalsIgnoreCase(setting.trim())) {
                return new Choice(Optional.empty(), Level.DEBUG, "scalar (" + PROPERTY + "=false)");
            }
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                // A warning, as Lucene does for the same module: the scalar kernels are about 3x slower.
                return new Choice(Optional.empty(), Level.WARNING, "scalar. Start the JVM with --add-modules"
                        + " jdk.incubator.vector for the Vector API kernels (about 3x faster).");
            }
            try {
                VectorKernels k = (VectorKernels) Class.forName(VectorKernels.class.getPackageName() + ".PanamaKernels")
                        .getDeclaredConstructor().newInstance();
                int bits = k.vectorBits();
                // 128 bits (NEON, SSE) is the narrowest width the tiles are written for.
                if (bits < 128) {
                    return new Choice(Optional.empty(), Level.INFO, "scalar (the preferred vector is " + bits + "-bit)");
                }
                return new Choice(Optional.of(k), Level.DEBUG, k.description());
            } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
                return new Choice(Optional.empty(), Level.WARNING, "scalar (the Vector API kernels did not load: " + e
                        + ")");
            }
        }
    }
}
