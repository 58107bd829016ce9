package dev.receptive.backend.cuda;

import static jcuda.jcublas.JCublas2.cublasCreate;
import static jcuda.jcublas.JCublas2.cublasDestroy;
import static jcuda.jcublas.JCublas2.cublasGetVersion;
import static jcuda.jcublas.JCublas2.cublasSetMathMode;
import static jcuda.jcublas.JCublas2.cublasSetStream;
import static jcuda.jcublas.JCublas2.cublasSgemm;
import static jcuda.jcublas.cublasOperation.CUBLAS_OP_N;
import static jcuda.jcublas.cublasOperation.CUBLAS_OP_T;

import dev.receptive.tensor.Shape;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.runtime.cudaStream_t;

/**
 * Dense layers as cuBLAS SGEMMs on row-major data without any transposition copy. cuBLAS is
 * column-major, and a row-major (r, c) matrix is the same memory as a column-major (c, r) one, its
 * transpose; so each row-major product is written as the column-major product of the transposes:
 * <pre>
 *   y  = x·wᵀ   (N,out)  →  yᵀ  = w·xᵀ      gemm(T, N, m=out, n=N,   k=in)
 *   dx = dy·w   (N,in)   →  dxᵀ = wᵀ·dyᵀ    gemm(N, N, m=in,  n=N,   k=out)
 *   dw = dyᵀ·x  (out,in) →  dwᵀ = xᵀ·dy     gemm(N, T, m=in,  n=out, k=N)
 * </pre>
 * Bias add and bias gradient are cuDNN ops on (N, out, 1, 1) views.
 */
final class CublasDense implements AutoCloseable {
    private static final Pointer ONE = Pointer.to(new float[] {1f});
    private static final Pointer ZERO = Pointer.to(new float[] {0f});

    private final cublasHandle handle = new cublasHandle();
    private final Cudnn cudnn;
    private final int version;

    CublasDense(CUstream stream, Cudnn cudnn, boolean fastMath) {
        this.cudnn = cudnn;
        JCublas2.setExceptionsEnabled(true);
        cublasCreate(handle);
        try {
            cublasSetStream(handle, new cudaStream_t(stream));
            // DEFAULT_MATH keeps SGEMM in fp32; TF32 tensor cores only with fast math.
            cublasSetMathMode(handle, fastMath ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH : cublasMath.CUBLAS_DEFAULT_MATH);
            int[] v = new int[1];
            cublasGetVersion(handle, v);
            version = v[0];
        } catch (RuntimeException e) {
            cublasDestroy(handle);
            throw e;
        }
    }

    /** cuBLAS version as major·10000 + minor·100 + patch (e.g. 120604 for 12.6.4). */
    int version() {
        return version;
    }

    // y = x·wᵀ + b. x: (N, in); w: (out, in); b: (out) or null; y: (N, out)
    void forward(CUdeviceptr y, CUdeviceptr x, CUdeviceptr w, CUdeviceptr b, int n, int in, int out, Shape ys) {
        cublasSgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, ONE, w, in, x, in, ZERO, y, out);
        if (b != null) {
            cudnn.addBias(y, ys, b);
        }
    }

    // dx = dy·w (if dx != null); dw = dyᵀ·x; db = Σ_n dy[n] (if db != null); dw and db added to when accumulating.
    // dy: (N, out); x, dx: (N, in); w, dw: (out, in); db: (out)
    void backward(CUdeviceptr dx, CUdeviceptr dw, CUdeviceptr db, CUdeviceptr dy, CUdeviceptr x, CUdeviceptr w,
            int n, int in, int out, Shape dys, boolean accumulate) {
        if (dx != null) {
            cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, ONE, w, in, dy, out, ZERO, dx, in);
        }
        cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, ONE, x, in, dy, out, accumulate ? ONE : ZERO, dw, in);
        if (db != null) {
            cudnn.biasGradient(db, dy, dys, accumulate);
        }
    }

    @Override
    public void close() {
        cublasDestroy(handle);
    }
}
