package dev.receptive.backend.cpu;

import java.util.Arrays;

/**
 * Single-precision matrix product C = A·B (or C += A·B), cache-blocked for the JVM.
 *
 * <p>B is packed, a panel of {@link #KC} × {@link #NC} at a time, into separate row arrays; then
 * each row of C is updated four rows of B at a time by {@link #rowUpdate4}. That loop indexes
 * every array by the same {@code [j]}, which is the one shape HotSpot's C2 turns into AVX
 * vector code (an offset per array, or {@code Math.fma}, leaves it scalar: about 5× slower).
 *
 * <p>Every element of C is summed over k in the same order whatever the blocking of rows and
 * columns, so results do not depend on how the work is split between threads.
 */
final class Gemm {
    /** Depth of a packed panel (rows of B); 256 × 512 floats = 512 KiB stay in L2. */
    static final int KC = 256;
    /** Width of a packed panel (columns of B and C). */
    static final int NC = 512;
    /** Rows of C per parallel task. */
    private static final int MB = 64;

    /** Element (i, j) of a matrix is {@code data[offset + i·rowStride + j·colStride]}. */
    record View(float[] data, int offset, int rowStride, int colStride) implements RowSource {
        static View rowMajor(float[] data, int offset, int cols) {
            return new View(data, offset, cols, 1);
        }

        /** The transpose of the row-major (rows × cols) matrix at offset. */
        static View transposed(float[] data, int offset, int cols) {
            return new View(data, offset, 1, cols);
        }

        float get(int i, int j) {
            return data[offset + i * rowStride + j * colStride];
        }

        @Override
        public void packRow(int i, int j0, int len, float[] dst) {
            int start = offset + i * rowStride + j0 * colStride;
            if (colStride == 1) {
                System.arraycopy(data, start, dst, 0, len);
            } else {
                for (int j = 0; j < len; j++) {
                    dst[j] = data[start + j * colStride];
                }
            }
        }
    }

    /** Where B comes from: a matrix, or a view computed on the fly such as im2col. */
    interface RowSource {
        /** dst[0, len) = B(i, j0 .. j0+len). */
        void packRow(int i, int j0, int len, float[] dst);
    }

    /** Per-thread scratch: one packed panel of B and one row of C. */
    static final class Workspace {
        final float[][] panel = new float[KC][NC];
        final float[] row = new float[NC];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private Gemm() {
    }

    static Workspace workspace() {
        return WORKSPACE.get();
    }

    /**
     * C = A·B, or C += A·B when accumulate, on the calling thread.
     * A: (m × k) view; B: (k × n) source; C: rows of n at c[cOff + i·ldc].
     */
    static void multiply(int m, int n, int k, View a, RowSource b, float[] c, int cOff, int ldc, boolean accumulate) {
        block(0, m, 0, n, k, a, b, c, cOff, ldc, accumulate, workspace());
    }

    /** Like {@link #multiply}, split over blocks of rows and panels of columns across threads. */
    static void multiply(CpuParallel par, int m, int n, int k, View a, RowSource b, float[] c, int cOff, int ldc,
            boolean accumulate) {
        int rowBlocks = (m + MB - 1) / MB;
        int colPanels = (n + NC - 1) / NC;
        par.forRange(rowBlocks * colPanels, (from, to) -> {
            Workspace ws = workspace();
            for (int t = from; t < to; t++) {
                int i0 = (t / colPanels) * MB;
                int j0 = (t % colPanels) * NC;
                block(i0, Math.min(m, i0 + MB), j0, Math.min(n, j0 + NC), k, a, b, c, cOff, ldc, accumulate, ws);
            }
        });
    }

    /** C[i0..i1, j0..j1] (+)= A[i0..i1, :]·B[:, j0..j1]. */
    private static void block(int i0, int i1, int j0, int j1, int k, View a, RowSource b, float[] c, int cOff, int ldc,
            boolean accumulate, Workspace ws) {
        float[][] panel = ws.panel;
        float[] row = ws.row;
        for (int jb = j0; jb < j1; jb += NC) {
            int nc = Math.min(NC, j1 - jb);
            if (k == 0 && !accumulate) {
                for (int i = i0; i < i1; i++) {
                    Arrays.fill(c, cOff + i * ldc + jb, cOff + i * ldc + jb + nc, 0f);
                }
            }
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0);
                for (int kk = 0; kk < kc; kk++) {
                    b.packRow(k0 + kk, jb, nc, panel[kk]);
                }
                boolean fresh = k0 == 0 && !accumulate;
                for (int i = i0; i < i1; i++) {
                    int ci = cOff + i * ldc + jb;
                    if (fresh) {
                        Arrays.fill(row, 0, nc, 0f);
                    } else {
                        System.arraycopy(c, ci, row, 0, nc);
                    }
                    rowUpdate(row, a, i, k0, panel, kc, nc);
                    System.arraycopy(row, 0, c, ci, nc);
                }
            }
        }
    }

    /** c[0, n) += Σ_kk A(i, k0 + kk) · panel[kk][0, n), four rows of the panel per pass. */
    private static void rowUpdate(float[] c, View a, int i, int k0, float[][] panel, int kc, int n) {
        int kk = 0;
        for (; kk + 3 < kc; kk += 4) {
            int kg = k0 + kk;
            rowUpdate4(c, a.get(i, kg), panel[kk], a.get(i, kg + 1), panel[kk + 1], a.get(i, kg + 2), panel[kk + 2],
                    a.get(i, kg + 3), panel[kk + 3], n);
        }
        for (; kk < kc; kk++) {
            rowUpdate1(c, a.get(i, k0 + kk), panel[kk], n);
        }
    }

    // c[j] += a0·b0[j] + a1·b1[j] + a2·b2[j] + a3·b3[j]
    private static void rowUpdate4(float[] c, float a0, float[] b0, float a1, float[] b1, float a2, float[] b2,
            float a3, float[] b3, int n) {
        for (int j = 0; j < n; j++) {
            c[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
        }
    }

    // c[j] += a·b[j]
    private static void rowUpdate1(float[] c, float a, float[] b, int n) {
        for (int j = 0; j < n; j++) {
            c[j] += a * b[j];
        }
    }
}
