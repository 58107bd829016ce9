package dev.receptive.backend.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked matrix product of the Vector API path: C (+)= A·B one tile of
 * {@link Tile#mr} rows × {@link Tile#nr} columns at a time, the tile held in vector registers
 * while the whole reduction runs through them.
 *
 * <p>Operands are described by offset tables, so one kernel serves dense layers and
 * convolutions without copying the operand that is already laid out well:
 * <pre>
 *   A(i, kk) = a[aRow[i] + aK[kk]]      (broadcast one element per row and step)
 *   B(kk, j) = b[bK[kk] + j]            (a row of B is contiguous in j)
 * </pre>
 * JDK 17's C2 keeps vectors in registers only in one flat counted loop with the tile in local
 * variables (in nested loops it boxes them, about 40× slower), hence the unrolled shape of the
 * tile kernels. Each element of C is one chain of fused multiply-adds over kk in increasing
 * order, whatever tile shape or thread computes it: results do not depend on the split.
 */
final class VectorGemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Lanes per vector: 16 with AVX-512, 8 with AVX2, 4 with NEON or SSE. */
    static final int L = S.length();
    /** Depth of a packed block of B in the blocked product. */
    static final int KC = 256;
    /** Width of a packed block of B (columns). */
    static final int NC = 512;

    /** Vector registers of the register file the tiles are sized for: see {@link VectorKernels#registers}. */
    static final int REGISTERS = VectorKernels.registers(System.getProperty(VectorKernels.REGISTERS_PROPERTY), L,
            System.getProperty("os.arch"));

    /**
     * The tile shapes, by register file. With 32 vector registers (AVX-512) a tile of 24
     * accumulators runs 10-15% faster than one of 16 (8 × 2 vectors: 88-90 GFLOP/s on one core,
     * 12 × 2: 97-100, 6 × 4: 102-107, against a peak of 115); with 16 registers (AVX2, SSE) that
     * tile spills and 6 × 2 is the fastest (70 against 58 for 8 × 2): 12 accumulators, 2 vectors
     * of B and the broadcast fit in 15. The vector width only scales the columns.
     */
    enum Tile {
        /** 12 rows × 2 vectors (32 registers). */
        ROWS12(12, 2),
        /** 6 rows × 4 vectors (32 registers), for products at least 4 vectors wide. */
        ROWS6_WIDE(6, 4),
        /** 6 rows × 2 vectors (16 registers). */
        ROWS6(6, 2);

        /** Rows of a tile. */
        final int mr;
        /** Columns of a tile: a whole number of vectors. */
        final int nr;

        Tile(int mr, int vectors) {
            this.mr = mr;
            this.nr = vectors * L;
        }

        /** The tile for a product with n columns: with 32 registers, the wide one unless it would pad more columns. */
        static Tile forColumns(int n) {
            if (REGISTERS < 32) {
                return ROWS6;
            }
            return roundUp(n, ROWS6_WIDE.nr) == roundUp(n, ROWS12.nr) ? ROWS6_WIDE : ROWS12;
        }
    }

    private VectorGemm() {
    }

    static int roundUp(int v, int unit) {
        return (v + unit - 1) / unit * unit;
    }

    /**
     * C[i0 .. i0+mr, j0 .. j0+nr) (+)= Σ_{kk < k} A(i, aK[kOff + kk]) · b[bK[kk] + j0 + j], with
     * row i of A at a[aRow[min(r0 + i, rLast)] + ...] (rows past rLast repeat it; their results
     * land in rows of C the caller ignores) and C row i at c[cOff + i·ldc].
     */
    static void tile(Tile t, int k, float[] a, int[] aRow, int r0, int rLast, int[] aK, int kOff, float[] b,
            int[] bK, int j0, float[] c, int cOff, int ldc, boolean accumulate) {
        switch (t) {
            case ROWS12 -> tile12x2(k, a, aRow, r0, rLast, aK, kOff, b, bK, j0, c, cOff, ldc, accumulate);
            case ROWS6_WIDE -> tile6x4(k, a, aRow, r0, rLast, aK, kOff, b, bK, j0, c, cOff, ldc, accumulate);
            case ROWS6 -> tile6x2(k, a, aRow, r0, rLast, aK, kOff, b, bK, j0, c, cOff, ldc, accumulate);
            default -> throw new AssertionError(t);
        }
    }

    /** 12 rows × 2 vectors: 24 accumulators, 14 loads per 24 fused multiply-adds. */
    private static void tile12x2(int k, float[] a, int[] aRow, int r0, int rLast, int[] aK, int kOff, float[] b,
            int[] bK, int j0, float[] c, int cOff, int ldc, boolean accumulate) {
        int a0 = aRow[Math.min(r0, rLast)];
        int a1 = aRow[Math.min(r0 + 1, rLast)];
        int a2 = aRow[Math.min(r0 + 2, rLast)];
        int a3 = aRow[Math.min(r0 + 3, rLast)];
        int a4 = aRow[Math.min(r0 + 4, rLast)];
        int a5 = aRow[Math.min(r0 + 5, rLast)];
        int a6 = aRow[Math.min(r0 + 6, rLast)];
        int a7 = aRow[Math.min(r0 + 7, rLast)];
        int a8 = aRow[Math.min(r0 + 8, rLast)];
        int a9 = aRow[Math.min(r0 + 9, rLast)];
        int a10 = aRow[Math.min(r0 + 10, rLast)];
        int a11 = aRow[Math.min(r0 + 11, rLast)];
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, c80, c81, c90, c91,
                c100, c101, c110, c111;
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
            c80 = FloatVector.fromArray(S, c, cOff + 8 * ldc);
            c81 = FloatVector.fromArray(S, c, cOff + 8 * ldc + L);
            c90 = FloatVector.fromArray(S, c, cOff + 9 * ldc);
            c91 = FloatVector.fromArray(S, c, cOff + 9 * ldc + L);
            c100 = FloatVector.fromArray(S, c, cOff + 10 * ldc);
            c101 = FloatVector.fromArray(S, c, cOff + 10 * ldc + L);
            c110 = FloatVector.fromArray(S, c, cOff + 11 * ldc);
            c111 = FloatVector.fromArray(S, c, cOff + 11 * ldc + L);
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
            c80 = z;
            c81 = z;
            c90 = z;
            c91 = z;
            c100 = z;
            c101 = z;
            c110 = z;
            c111 = z;
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
            v = FloatVector.broadcast(S, a[a8 + ak]);
            c80 = v.fma(b0, c80);
            c81 = v.fma(b1, c81);
            v = FloatVector.broadcast(S, a[a9 + ak]);
            c90 = v.fma(b0, c90);
            c91 = v.fma(b1, c91);
            v = FloatVector.broadcast(S, a[a10 + ak]);
            c100 = v.fma(b0, c100);
            c101 = v.fma(b1, c101);
            v = FloatVector.broadcast(S, a[a11 + ak]);
            c110 = v.fma(b0, c110);
            c111 = v.fma(b1, c111);
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
        c80.intoArray(c, cOff + 8 * ldc);
        c81.intoArray(c, cOff + 8 * ldc + L);
        c90.intoArray(c, cOff + 9 * ldc);
        c91.intoArray(c, cOff + 9 * ldc + L);
        c100.intoArray(c, cOff + 10 * ldc);
        c101.intoArray(c, cOff + 10 * ldc + L);
        c110.intoArray(c, cOff + 11 * ldc);
        c111.intoArray(c, cOff + 11 * ldc + L);
    }

    /** 6 rows × 4 vectors: 24 accumulators, 10 loads per 24 fused multiply-adds. */
    private static void tile6x4(int k, float[] a, int[] aRow, int r0, int rLast, int[] aK, int kOff, float[] b,
            int[] bK, int j0, float[] c, int cOff, int ldc, boolean accumulate) {
        int a0 = aRow[Math.min(r0, rLast)];
        int a1 = aRow[Math.min(r0 + 1, rLast)];
        int a2 = aRow[Math.min(r0 + 2, rLast)];
        int a3 = aRow[Math.min(r0 + 3, rLast)];
        int a4 = aRow[Math.min(r0 + 4, rLast)];
        int a5 = aRow[Math.min(r0 + 5, rLast)];
        FloatVector c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33, c40, c41, c42, c43,
                c50, c51, c52, c53;
        if (accumulate) {
            c00 = FloatVector.fromArray(S, c, cOff);
            c01 = FloatVector.fromArray(S, c, cOff + L);
            c02 = FloatVector.fromArray(S, c, cOff + 2 * L);
            c03 = FloatVector.fromArray(S, c, cOff + 3 * L);
            c10 = FloatVector.fromArray(S, c, cOff + ldc);
            c11 = FloatVector.fromArray(S, c, cOff + ldc + L);
            c12 = FloatVector.fromArray(S, c, cOff + ldc + 2 * L);
            c13 = FloatVector.fromArray(S, c, cOff + ldc + 3 * L);
            c20 = FloatVector.fromArray(S, c, cOff + 2 * ldc);
            c21 = FloatVector.fromArray(S, c, cOff + 2 * ldc + L);
            c22 = FloatVector.fromArray(S, c, cOff + 2 * ldc + 2 * L);
            c23 = FloatVector.fromArray(S, c, cOff + 2 * ldc + 3 * L);
            c30 = FloatVector.fromArray(S, c, cOff + 3 * ldc);
            c31 = FloatVector.fromArray(S, c, cOff + 3 * ldc + L);
            c32 = FloatVector.fromArray(S, c, cOff + 3 * ldc + 2 * L);
            c33 = FloatVector.fromArray(S, c, cOff + 3 * ldc + 3 * L);
            c40 = FloatVector.fromArray(S, c, cOff + 4 * ldc);
            c41 = FloatVector.fromArray(S, c, cOff + 4 * ldc + L);
            c42 = FloatVector.fromArray(S, c, cOff + 4 * ldc + 2 * L);
            c43 = FloatVector.fromArray(S, c, cOff + 4 * ldc + 3 * L);
            c50 = FloatVector.fromArray(S, c, cOff + 5 * ldc);
            c51 = FloatVector.fromArray(S, c, cOff + 5 * ldc + L);
            c52 = FloatVector.fromArray(S, c, cOff + 5 * ldc + 2 * L);
            c53 = FloatVector.fromArray(S, c, cOff + 5 * ldc + 3 * L);
        } else {
            FloatVector z = FloatVector.zero(S);
            c00 = z;
            c01 = z;
            c02 = z;
            c03 = z;
            c10 = z;
            c11 = z;
            c12 = z;
            c13 = z;
            c20 = z;
            c21 = z;
            c22 = z;
            c23 = z;
            c30 = z;
            c31 = z;
            c32 = z;
            c33 = z;
            c40 = z;
            c41 = z;
            c42 = z;
            c43 = z;
            c50 = z;
            c51 = z;
            c52 = z;
            c53 = z;
        }
        for (int kk = 0; kk < k; kk++) {
            int ak = aK[kOff + kk];
            int bo = bK[kk] + j0;
            FloatVector b0 = FloatVector.fromArray(S, b, bo);
            FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bo + 2 * L);
            FloatVector b3 = FloatVector.fromArray(S, b, bo + 3 * L);
            FloatVector v = FloatVector.broadcast(S, a[a0 + ak]);
            c00 = v.fma(b0, c00);
            c01 = v.fma(b1, c01);
            c02 = v.fma(b2, c02);
            c03 = v.fma(b3, c03);
            v = FloatVector.broadcast(S, a[a1 + ak]);
            c10 = v.fma(b0, c10);
            c11 = v.fma(b1, c11);
            c12 = v.fma(b2, c12);
            c13 = v.fma(b3, c13);
            v = FloatVector.broadcast(S, a[a2 + ak]);
            c20 = v.fma(b0, c20);
            c21 = v.fma(b1, c21);
            c22 = v.fma(b2, c22);
            c23 = v.fma(b3, c23);
            v = FloatVector.broadcast(S, a[a3 + ak]);
            c30 = v.fma(b0, c30);
            c31 = v.fma(b1, c31);
            c32 = v.fma(b2, c32);
            c33 = v.fma(b3, c33);
            v = FloatVector.broadcast(S, a[a4 + ak]);
            c40 = v.fma(b0, c40);
            c41 = v.fma(b1, c41);
            c42 = v.fma(b2, c42);
            c43 = v.fma(b3, c43);
            v = FloatVector.broadcast(S, a[a5 + ak]);
            c50 = v.fma(b0, c50);
            c51 = v.fma(b1, c51);
            c52 = v.fma(b2, c52);
            c53 = v.fma(b3, c53);
        }
        c00.intoArray(c, cOff);
        c01.intoArray(c, cOff + L);
        c02.intoArray(c, cOff + 2 * L);
        c03.intoArray(c, cOff + 3 * L);
        c10.intoArray(c, cOff + ldc);
        c11.intoArray(c, cOff + ldc + L);
        c12.intoArray(c, cOff + ldc + 2 * L);
        c13.intoArray(c, cOff + ldc + 3 * L);
        c20.intoArray(c, cOff + 2 * ldc);
        c21.intoArray(c, cOff + 2 * ldc + L);
        c22.intoArray(c, cOff + 2 * ldc + 2 * L);
        c23.intoArray(c, cOff + 2 * ldc + 3 * L);
        c30.intoArray(c, cOff + 3 * ldc);
        c31.intoArray(c, cOff + 3 * ldc + L);
        c32.intoArray(c, cOff + 3 * ldc + 2 * L);
        c33.intoArray(c, cOff + 3 * ldc + 3 * L);
        c40.intoArray(c, cOff + 4 * ldc);
        c41.intoArray(c, cOff + 4 * ldc + L);
        c42.intoArray(c, cOff + 4 * ldc + 2 * L);
        c43.intoArray(c, cOff + 4 * ldc + 3 * L);
        c50.intoArray(c, cOff + 5 * ldc);
        c51.intoArray(c, cOff + 5 * ldc + L);
        c52.intoArray(c, cOff + 5 * ldc + 2 * L);
        c53.intoArray(c, cOff + 5 * ldc + 3 * L);
    }

    /** 6 rows × 2 vectors: 12 accumulators, for the 16 vector registers of AVX2. */
    private static void tile6x2(int k, float[] a, int[] aRow, int r0, int rLast, int[] aK, int kOff, float[] b,
            int[] bK, int j0, float[] c, int cOff, int ldc, boolean accumulate) {
        int a0 = aRow[Math.min(r0, rLast)];
        int a1 = aRow[Math.min(r0 + 1, rLast)];
        int a2 = aRow[Math.min(r0 + 2, rLast)];
        int a3 = aRow[Math.min(r0 + 3, rLast)];
        int a4 = aRow[Math.min(r0 + 4, rLast)];
        int a5 = aRow[Math.min(r0 + 5, rLast)];
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
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
    }

    /**
     * A tile that may stick out of C (rows past m or columns past n): computed in the scratch
     * tile, then its valid part copied (read first when accumulating).
     */
    static void edgeTile(Tile t, int k, float[] a, int[] aRow, int r0, int rLast, int[] aK, int kOff, float[] b,
            int[] bK, int j0, float[] c, int cOff, int ldc, int rows, int cols, boolean accumulate, float[] tmp) {
        if (accumulate) {
            for (int i = 0; i < rows; i++) {
                System.arraycopy(c, cOff + i * ldc, tmp, i * t.nr, cols);
            }
        }
        tile(t, k, a, aRow, r0, rLast, aK, kOff, b, bK, j0, tmp, 0, t.nr, accumulate);
        for (int i = 0; i < rows; i++) {
            System.arraycopy(tmp, i * t.nr, c, cOff + i * ldc, cols);
        }
    }

    /** Per-thread buffers of the blocked product. */
    static final class Blocks {
        final float[] panel = new float[KC * NC];
        /** Room for the largest tile, mr × nr floats. */
        final float[] tmp = new float[Arrays.stream(Tile.values()).mapToInt(t -> t.mr * t.nr).max().getAsInt()];
        /** bK of a packed panel, by tile: row kk of a tile's panel starts at kk·nr. */
        private final int[][] packedRows = new int[Tile.values().length][];

        int[] packedRows(Tile t) {
            int[] rows = packedRows[t.ordinal()];
            if (rows == null) {
                rows = new int[KC];
                for (int kk = 0; kk < KC; kk++) {
                    rows[kk] = kk * t.nr;
                }
                packedRows[t.ordinal()] = rows;
            }
            return rows;
        }
    }

    /**
     * C[rFrom..rTo, cFrom..cTo) (+)= A·B over k in tiles t, with B(kk, j) = b[bK[kk] + j·bJ] packed in
     * blocks of {@link #KC} × {@link #NC} (zero beyond column n). A(i, kk) = a[aRow[i] + aK[kk]];
     * rows of A stop at m (rLast = m − 1). C row i at c[cOff + i·ldc].
     */
    static void blocked(Tile t, int m, int rFrom, int rTo, int cFrom, int cTo, int k, float[] a, int[] aRow, int[] aK,
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
        int[] packedRows = ws.packedRows(t);
        int mr = t.mr;
        int nr = t.nr;
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = Math.min(KC, k - k0);
            boolean acc = accumulate || k0 > 0;
            for (int n0 = cFrom; n0 < cTo; n0 += NC) {
                int nc = Math.min(NC, cTo - n0);
                pack(b, bK, bJ, k0, kc, n0, nc, nr, panel);
                // Keep the smaller operand of the block in cache: with more rows of A than columns of
                // B (dense forward, filter gradients), sweep B's tiles under each row tile of A.
                boolean rowsOuter = rTo - rFrom > nc;
                int outer = rowsOuter ? (rTo - rFrom + mr - 1) / mr : (nc + nr - 1) / nr;
                int inner = rowsOuter ? (nc + nr - 1) / nr : (rTo - rFrom + mr - 1) / mr;
                for (int o = 0; o < outer; o++) {
                    for (int in = 0; in < inner; in++) {
                        int i0 = rFrom + (rowsOuter ? o : in) * mr;
                        int jt = (rowsOuter ? in : o) * nr;
                        int rows = Math.min(mr, rTo - i0);
                        int cols = Math.min(nr, nc - jt);
                        int at = cOff + i0 * ldc + n0 + jt;
                        if (rows == mr && cols == nr) {
                            tile(t, kc, a, aRow, i0, m - 1, aK, k0, panel, packedRows, jt * kc, c, at, ldc, acc);
                        } else {
                            edgeTile(t, kc, a, aRow, i0, m - 1, aK, k0, panel, packedRows, jt * kc, c, at, ldc, rows,
                                    cols, acc, ws.tmp);
                        }
                    }
                }
            }
        }
    }

    /** panel[jt·kc + kk·nr + j] = B(k0 + kk, n0 + jt + j), zero past the block's nc columns. */
    private static void pack(float[] b, int[] bK, int bJ, int k0, int kc, int n0, int nc, int nr, float[] panel) {
        for (int kk = 0; kk < kc; kk++) {
            int src = bK[k0 + kk] + n0 * bJ;
            for (int jt = 0; jt < nc; jt += nr) {
                int len = Math.min(nr, nc - jt);
                int dst = jt * kc + kk * nr;
                if (bJ == 1) {
                    System.arraycopy(b, src + jt, panel, dst, len);
                } else {
                    for (int j = 0; j < len; j++) {
                        panel[dst + j] = b[src + (jt + j) * bJ];
                    }
                }
                if (len < nr) {
                    // Only discarded columns read these; zeros keep stale values (denormals are slow) out.
                    Arrays.fill(panel, dst + len, dst + nr, 0f);
                }
            }
        }
    }

}
