package dev.receptive.backend.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked matrix product of the Vector API path: C (+)= A·B one tile of
 * {@link #MR} rows × {@link #NR} columns at a time, the tile held in 16 vector registers while
 * the whole reduction runs through them.
 *
 * <p>Operands are described by offset tables, so one kernel serves dense layers and
 * convolutions without copying the operand that is already laid out well:
 * <pre>
 *   A(i, kk) = a[aRow[i] + aK[kk]]      (broadcast one element per row and step)
 *   B(kk, j) = b[bK[kk] + j]            (a row of B is contiguous in j)
 * </pre>
 * JDK 17's C2 keeps vectors in registers only in one flat counted loop with the tile in local
 * variables (in nested loops it boxes them, about 40× slower), hence the unrolled shape of
 * {@link #tile}. Each element of C is one chain of fused multiply-adds over kk in increasing
 * order, whatever tile or thread computes it: results do not depend on the split.
 */
final class VectorGemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Lanes per vector: 16 with AVX-512, 8 with AVX2. */
    static final int L = S.length();
    /** Rows of a tile. */
    static final int MR = 8;
    /** Columns of a tile: two vectors. */
    static final int NR = 2 * L;
    /** Depth of a packed block of B in the blocked product. */
    static final int KC = 256;
    /** Width of a packed block of B (columns). */
    static final int NC = 512;

    private VectorGemm() {
    }

    /**
     * C[i0 .. i0+MR, j0 .. j0+NR) (+)= Σ_{kk < k} A(i, aK[kOff + kk]) · b[bK[kk] + j0 + j], with
     * row i of A at a[aRow[min(r0 + i, rLast)] + ...] (rows past rLast repeat it; their results
     * land in rows of C the caller ignores) and C row i at c[cOff + i·ldc].
     */
    static void tile(int k, float[] a, int[] aRow, int r0, int rLast, int[] aK, int kOff, float[] b, int[] bK,
            int j0, float[] c, int cOff, int ldc, boolean accumulate) {
        int a0 = aRow[Math.min(r0, rLast)];
        int a1 = aRow[Math.min(r0 + 1, rLast)];
        int a2 = aRow[Math.min(r0 + 2, rLast)];
        int a3 = aRow[Math.min(r0 + 3, rLast)];
        int a4 = aRow[Math.min(r0 + 4, rLast)];
        int a5 = aRow[Math.min(r0 + 5, rLast)];
        int a6 = aRow[Math.min(r0 + 6, rLast)];
        int a7 = aRow[Math.min(r0 + 7, rLast)];
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (accumulate) {
            c00 = FloatVector.fromArray(S, c, cOff);
            c01 = FloatVector.fromArray(S, c, cOff + L);
            c10 = FloatVector.fromArray(S, c, cOff + ldc);
            c11 = FloatVector.fromArray(S, c, cOff + ldc + L);
            c20 = FloatVector.fromArray(S, c, cOff + 2 * ldc);
            c21 = FloatVector.fromArray(S, c, cOff + 2 * ldc + L);
            c30 = FloatVector.fromArray(S, c, cOff + 3 * ldc);
            c31 = FloatVector.fromArray(S, c, cOff + 3 * ldc + L);
            c40 = FloatVector.fromArray(S, c, cOff + 4 * ldc);
            c41 = FloatVector.fromArray(S, c, cOff + 4 * ldc + L);
            c50 = FloatVector.fromArray(S, c, cOff + 5 * ldc);
            c51 = FloatVector.fromArray(S, c, cOff + 5 * ldc + L);
            c60 = FloatVector.fromArray(S, c, cOff + 6 * ldc);
            c61 = FloatVector.fromArray(S, c, cOff + 6 * ldc + L);
            c70 = FloatVector.fromArray(S, c, cOff + 7 * ldc);
            c71 = FloatVector.fromArray(S, c, cOff + 7 * ldc + L);
        } else {
            FloatVector z = FloatVector.zero(S);
            c00 = z;
            c01 = z;
            c10 = z;
            c11 = z;
            c20 = z;
            c21 = z;
            c30 = z;
            c31 = z;
            c40 = z;
            c41 = z;
            c50 = z;
            c51 = z;
            c60 = z;
            c61 = z;
            c70 = z;
            c71 = z;
        }
        for (int kk = 0; kk < k; kk++) {
            int ak = aK[kOff + kk];
            int bo = bK[kk] + j0;
            FloatVector b0 = FloatVector.fromArray(S, b, bo);
            FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector v = FloatVector.broadcast(S, a[a0 + ak]);
            c00 = v.fma(b0, c00);
            c01 = v.fma(b1, c01);
            v = FloatVector.broadcast(S, a[a1 + ak]);
            c10 = v.fma(b0, c10);
            c11 = v.fma(b1, c11);
            v = FloatVector.broadcast(S, a[a2 + ak]);
            c20 = v.fma(b0, c20);
            c21 = v.fma(b1, c21);
            v = FloatVector.broadcast(S, a[a3 + ak]);
            c30 = v.fma(b0, c30);
            c31 = v.fma(b1, c31);
            v = FloatVector.broadcast(S, a[a4 + ak]);
            c40 = v.fma(b0, c40);
            c41 = v.fma(b1, c41);
            v = FloatVector.broadcast(S, a[a5 + ak]);
            c50 = v.fma(b0, c50);
            c51 = v.fma(b1, c51);
            v = FloatVector.broadcast(S, a[a6 + ak]);
            c60 = v.fma(b0, c60);
            c61 = v.fma(b1, c61);
            v = FloatVector.broadcast(S, a[a7 + ak]);
            c70 = v.fma(b0, c70);
            c71 = v.fma(b1, c71);
        }
        c00.intoArray(c, cOff);
        c01.intoArray(c, cOff + L);
        c10.intoArray(c, cOff + ldc);
        c11.intoArray(c, cOff + ldc + L);
        c20.intoArray(c, cOff + 2 * ldc);
        c21.intoArray(c, cOff + 2 * ldc + L);
        c30.intoArray(c, cOff + 3 * ldc);
        c31.intoArray(c, cOff + 3 * ldc + L);
        c40.intoArray(c, cOff + 4 * ldc);
        c41.intoArray(c, cOff + 4 * ldc + L);
        c50.intoArray(c, cOff + 5 * ldc);
        c51.intoArray(c, cOff + 5 * ldc + L);
        c60.intoArray(c, cOff + 6 * ldc);
        c61.intoArray(c, cOff + 6 * ldc + L);
        c70.intoArray(c, cOff + 7 * ldc);
        c71.intoArray(c, cOff + 7 * ldc + L);
    }

    /**
     * A tile that may stick out of C (rows past m or columns past n): computed in the scratch
     * tile, then its valid part copied (read first when accumulating).
     */
    static void edgeTile(int k, float[] a, int[] aRow, int r0, int rLast, int[] aK, int kOff, float[] b, int[] bK,
            int j0, float[] c, int cOff, int ldc, int rows, int cols, boolean accumulate, float[] tmp) {
        if (accumulate) {
            for (int i = 0; i < rows; i++) {
                System.arraycopy(c, cOff + i * ldc, tmp, i * NR, cols);
            }
        }
        tile(k, a, aRow, r0, rLast, aK, kOff, b, bK, j0, tmp, 0, NR, accumulate);
        for (int i = 0; i < rows; i++) {
            System.arraycopy(tmp, i * NR, c, cOff + i * ldc, cols);
        }
    }

    /** Per-thread buffers of the blocked product. */
    static final class Blocks {
        final float[] panel = new float[KC * NC];
        final float[] tmp = new float[MR * NR];
        /** bK of a packed panel: row kk of a tile's panel starts at kk·NR. */
        final int[] packedRows = new int[KC];

        Blocks() {
            for (int kk = 0; kk < KC; kk++) {
                packedRows[kk] = kk * NR;
            }
        }
    }

    /**
     * C[rFrom..rTo, cFrom..cTo) (+)= A·B over k, with B(kk, j) = b[bK[kk] + j·bJ] packed in
     * blocks of {@link #KC} × {@link #NC} (zero beyond column n). A(i, kk) = a[aRow[i] + aK[kk]];
     * rows of A stop at m (rLast = m − 1). C row i at c[cOff + i·ldc].
     */
    static void blocked(int m, int rFrom, int rTo, int cFrom, int cTo, int k, float[] a, int[] aRow, int[] aK,
            float[] b, int[] bK, int bJ, float[] c, int cOff, int ldc, boolean accumulate, Blocks ws) {
        if (k == 0) {
            if (!accumulate) {
                for (int i = rFrom; i < rTo; i++) {
                    Arrays.fill(c, cOff + i * ldc + cFrom, cOff + i * ldc + cTo, 0f);
                }
            }
            return;
        }
        float[] panel = ws.panel;
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = Math.min(KC, k - k0);
            boolean acc = accumulate || k0 > 0;
            for (int n0 = cFrom; n0 < cTo; n0 += NC) {
                int nc = Math.min(NC, cTo - n0);
                pack(b, bK, bJ, k0, kc, n0, nc, panel);
                // Keep the smaller operand of the block in cache: with more rows of A than columns of
                // B (dense forward, filter gradients), sweep B's tiles under each row tile of A.
                boolean rowsOuter = rTo - rFrom > nc;
                int outer = rowsOuter ? (rTo - rFrom + MR - 1) / MR : (nc + NR - 1) / NR;
                int inner = rowsOuter ? (nc + NR - 1) / NR : (rTo - rFrom + MR - 1) / MR;
                for (int o = 0; o < outer; o++) {
                    for (int in = 0; in < inner; in++) {
                        int i0 = rFrom + (rowsOuter ? o : in) * MR;
                        int jt = (rowsOuter ? in : o) * NR;
                        int rows = Math.min(MR, rTo - i0);
                        int cols = Math.min(NR, nc - jt);
                        int at = cOff + i0 * ldc + n0 + jt;
                        if (rows == MR && cols == NR) {
                            tile(kc, a, aRow, i0, m - 1, aK, k0, panel, ws.packedRows, jt * kc, c, at, ldc, acc);
                        } else {
                            edgeTile(kc, a, aRow, i0, m - 1, aK, k0, panel, ws.packedRows, jt * kc, c, at, ldc, rows,
                                    cols, acc, ws.tmp);
                        }
                    }
                }
            }
        }
    }

    /** panel[jt·kc + kk·NR + j] = B(k0 + kk, n0 + jt + j), zero past the block's nc columns. */
    private static void pack(float[] b, int[] bK, int bJ, int k0, int kc, int n0, int nc, float[] panel) {
        for (int kk = 0; kk < kc; kk++) {
            int src = bK[k0 + kk] + n0 * bJ;
            for (int jt = 0; jt < nc; jt += NR) {
                int len = Math.min(NR, nc - jt);
                int dst = jt * kc + kk * NR;
                if (bJ == 1) {
                    System.arraycopy(b, src + jt, panel, dst, len);
                } else {
                    for (int j = 0; j < len; j++) {
                        panel[dst + j] = b[src + (jt + j) * bJ];
                    }
                }
                if (len < NR) {
                    // Only discarded columns read these; zeros keep stale values (denormals are slow) out.
                    Arrays.fill(panel, dst + len, dst + NR, 0f);
                }
            }
        }
    }

}
