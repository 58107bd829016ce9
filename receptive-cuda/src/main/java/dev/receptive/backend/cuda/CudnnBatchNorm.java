package dev.receptive.backend.cuda;

import static dev.receptive.backend.cuda.Cudnn.ONE;
import static dev.receptive.backend.cuda.Cudnn.ZERO;
import static dev.receptive.backend.cuda.Cudnn.check;
import static jcuda.jcudnn.JCudnn.cudnnBatchNormalizationBackward;
import static jcuda.jcudnn.JCudnn.cudnnBatchNormalizationForwardInference;
import static jcuda.jcudnn.JCudnn.cudnnBatchNormalizationForwardTraining;

import dev.receptive.tensor.Shape;
import jcuda.driver.CUdeviceptr;
import jcuda.jcudnn.cudnnBatchNormMode;
import jcuda.jcudnn.cudnnTensorDescriptor;

/**
 * Batch normalization through cuDNN's spatial mode: per channel over N and every dimension after
 * the channels, x seen as (N, C, S, 1). cuDNN's running variance is the unbiased one and its
 * exponential average factor is PyTorch's momentum, so the running statistics follow PyTorch's
 * formula; its saved inverse variance is 1/√(σ² + eps), the contract's saveInvStd.
 */
final class CudnnBatchNorm {
    private static final int MODE = cudnnBatchNormMode.CUDNN_BATCHNORM_SPATIAL;
    private final Cudnn cudnn;

    CudnnBatchNorm(Cudnn cudnn) {
        this.cudnn = cudnn;
    }

    private cudnnTensorDescriptor data(Shape s) {
        return cudnn.tensor(s.dim(0), s.dim(1), s.sizePerItem() / s.dim(1), 1);
    }

    private cudnnTensorDescriptor channels(Shape s) {
        return cudnn.tensor(1, s.dim(1), 1, 1);
    }

    // y, x: (N, C, ...); the rest (C)
    void forwardTraining(CUdeviceptr y, CUdeviceptr x, Shape xs, CUdeviceptr gamma, CUdeviceptr beta,
            CUdeviceptr runningMean, CUdeviceptr runningVar, CUdeviceptr saveMean, CUdeviceptr saveInvStd,
            float momentum, float eps) {
        cudnnTensorDescriptor d = data(xs);
        check(cudnnBatchNormalizationForwardTraining(cudnn.handle, MODE, ONE, ZERO, d, x, d, y, channels(xs), gamma, beta,
                momentum, runningMean, runningVar, eps, saveMean, saveInvStd), "cudnnBatchNormalizationForwardTraining");
    }

    // y, x: (N, C, ...); the rest (C)
    void forwardInference(CUdeviceptr y, CUdeviceptr x, Shape xs, CUdeviceptr gamma, CUdeviceptr beta,
            CUdeviceptr runningMean, CUdeviceptr runningVar, float eps) {
        cudnnTensorDescriptor d = data(xs);
        check(cudnnBatchNormalizationForwardInference(cudnn.handle, MODE, ONE, ZERO, d, x, d, y, channels(xs), gamma,
                beta, runningMean, runningVar, eps), "cudnnBatchNormalizationForwardInference");
    }

    // dx, dy, x: (N, C, ...); the rest (C); dGamma and dBeta added to when accumulating
    void backward(CUdeviceptr dx, CUdeviceptr dGamma, CUdeviceptr dBeta, CUdeviceptr dy, CUdeviceptr x, Shape xs,
            CUdeviceptr gamma, CUdeviceptr saveMean, CUdeviceptr saveInvStd, float eps, boolean accumulate) {
        cudnnTensorDescriptor d = data(xs);
        check(cudnnBatchNormalizationBackward(cudnn.handle, MODE, ONE, ZERO, ONE, accumulate ? ONE : ZERO, d, x, d, dy, d,
                dx, channels(xs), gamma, dGamma, dBeta, eps, saveMean, saveInvStd), "cudnnBatchNormalizationBackward");
    }
}
