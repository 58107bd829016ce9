package dev.receptive.backend.cuda;

import static dev.receptive.backend.cuda.Cudnn.ONE;
import static dev.receptive.backend.cuda.Cudnn.ZERO;
import static dev.receptive.backend.cuda.Cudnn.check;
import static jcuda.jcudnn.JCudnn.cudnnCreatePoolingDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDestroyPoolingDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnPoolingBackward;
import static jcuda.jcudnn.JCudnn.cudnnPoolingForward;
import static jcuda.jcudnn.JCudnn.cudnnSetPooling2dDescriptor;

import dev.receptive.backend.Pool2dParams;
import dev.receptive.backend.PoolMode;
import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUdeviceptr;
import jcuda.jcudnn.cudnnNanPropagation;
import jcuda.jcudnn.cudnnPoolingDescriptor;
import jcuda.jcudnn.cudnnPoolingMode;
import jcuda.jcudnn.cudnnTensorDescriptor;
import dev.receptive.tensor.Shape;

/**
 * cuDNN pooling, one descriptor per (mode, geometry): max and average forward, average backward.
 * Max pooling ignores padding (cuDNN's CUDNN_POOLING_MAX); average pooling divides by the full
 * window, padding included (CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING), both as
 * {@link Pool2dParams} defines them. Max backward is Receptive's own kernel (maxpool_backward.cu):
 * cuDNN's does not promise which of several tied inputs gets a window's gradient, the contract does.
 */
final class CudnnPool implements AutoCloseable {
    private record Key(PoolMode mode, Pool2dParams p) {
    }

    private final Cudnn cudnn;
    private final Map<Key, cudnnPoolingDescriptor> descriptors = new HashMap<>();

    CudnnPool(Cudnn cudnn) {
        this.cudnn = cudnn;
    }

    // x: (N, C, H, W); y: (N, C, P, Q)
    void forward(PoolMode mode, CUdeviceptr y, CUdeviceptr x, Shape xs, Shape ys, Pool2dParams p) {
        check(cudnnPoolingForward(cudnn.handle, descriptor(mode, p), ONE, cudnn.tensor(xs), x, ZERO, cudnn.tensor(ys), y),
                "cudnnPoolingForward");
    }

    // dx, x: (N, C, H, W); dy, y: (N, C, P, Q)
    void averageBackward(CUdeviceptr dx, CUdeviceptr dy, CUdeviceptr x, CUdeviceptr y, Shape xs, Shape ys,
            Pool2dParams p) {
        cudnnTensorDescriptor in = cudnn.tensor(xs);
        cudnnTensorDescriptor out = cudnn.tensor(ys);
        check(cudnnPoolingBackward(cudnn.handle, descriptor(PoolMode.AVERAGE, p), ONE, out, y, out, dy, in, x, ZERO, in, dx),
                "cudnnPoolingBackward");
    }

    private cudnnPoolingDescriptor descriptor(PoolMode mode, Pool2dParams p) {
        return descriptors.computeIfAbsent(new Key(mode, p), k -> {
            int cudnnMode = switch (mode) {
                case MAX -> cudnnPoolingMode.CUDNN_POOLING_MAX;
                case AVERAGE -> cudnnPoolingMode.CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
            };
            cudnnPoolingDescriptor d = new cudnnPoolingDescriptor();
            check(cudnnCreatePoolingDescriptor(d), "cudnnCreatePoolingDescriptor");
            int status = cudnnSetPooling2dDescriptor(d, cudnnMode, cudnnNanPropagation.CUDNN_PROPAGATE_NAN,
                    p.windowH(), p.windowW(), p.padH(), p.padW(), p.strideH(), p.strideW());
            if (status != CudnnStatus.SUCCESS) {
                cudnnDestroyPoolingDescriptor(d);
                check(status, "cudnnSetPooling2dDescriptor(" + p + ")");
            }
            return d;
        });
    }

    @Override
    public void close() {
        for (cudnnPoolingDescriptor d : descriptors.values()) {
            cudnnDestroyPoolingDescriptor(d);
        }
        descriptors.clear();
    }
}
