package dev.receptive.backend.cuda;

import static jcuda.jcublas.JCublas2.cublasCreate;
import static jcuda.jcublas.JCublas2.cublasDestroy;
import static jcuda.jcublas.JCublas2.cublasGemmEx;
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
import jcuda.cudaDataType;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasComputeType;
import jcuda.jcublas.cublasGemmAlgo;
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
    private final boolean bf16;
    private final int version;

    CublasDense(CUstream stream, Cudnn cudnn, CudaOptions options) {
        this.cudnn = cudnn;
        this.bf16 = options.precision() == CudaOptions.Precision.BF16;
        JCublas2.setExceptionsEnabled(true);
        cublasCreate(handle);
        try {
            cublasSetStream(handle, new cudaStream_t(stream));
            // DEFAULT_MATH keeps SGEMM in fp32; TF32 tensor cores with tf32 precision or fast math. bf16
            // chooses its compute type per call (gemm below).
            boolean tf32 = options.precision() == CudaOptions.Precision.TF32 || options.fastMath();
            cublasSetMathMode(handle, tf32 ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH : cublasMath.CUBLAS_DEFAULT_MATH);
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
        gemm(CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, w, in, x, in, ZERO, y, out);
        if (b != null) {
            cudnn.addBias(y, ys, b);
        }
    }

    // dx = dy·w (if dx != null); dw = dyᵀ·x; db = Σ_n dy[n] (if db != null); dw and db added to when accumulating.
    // dy: (N, out); x, dx: (N, in); w, dw: (out, in); db: (out)
    void backward(CUdeviceptr dx, CUdeviceptr dw, CUdeviceptr db, CUdeviceptr dy, CUdeviceptr x, CUdeviceptr w,
            int n, int in, int out, Shape dys, boolean accumulate) {
        if (dx != null) {
            gemm(CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, w, in, dy, out, ZERO, dx, in);
        }
        gemm(CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, x, in, dy, out, accumulate ? ONE : ZERO, dw, in);
        if (db != null) {
            cudnn.biasGradient(db, dy, dys, accumulate);
        }
    }

    /**
     * C = A·B + beta·C (column-major, alpha 1): SGEMM, or with bf16 precision a GEMM on fp32 memory
     * whose products run on bf16 tensor cores and sum in fp32 (CUBLAS_COMPUTE_32F_FAST_16BF).
     */
    private void gemm(int opA, int opB, int m, int n, int k, CUdeviceptr a, int lda, CUdeviceptr b, int ldb,
            Pointer beta, CUdeviceptr c, int ldc) {
        if (bf16) {
            cublasGemmEx(handle, opA, opB, m, n, k, ONE, a, cudaDataType.CUDA_R_32F, lda, b, cudaDataType.CUDA_R_32F, ldb,
                    beta, c, cudaDataType.CUDA_R_32F, ldc, cublasComputeType.CUBLAS_COMPUTE_32F_FAST_16BF,
                    cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
        } else {
            cublasSgemm(handle, opA, opB, m, n, k, ONE, a, lda, b, ldb, beta, c, ldc);
        }
    }

    @Override
    public void close() {
        cublasDestroy(handle);
    }
}
