package dev.receptive.backend.cuda;

import static jcuda.jcudnn.JCudnn.cudnnAddTensor;
import static jcuda.jcudnn.JCudnn.cudnnConvolutionBackwardBias;
import static jcuda.jcudnn.JCudnn.cudnnCreate;
import static jcuda.jcudnn.JCudnn.cudnnCreateTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnDestroy;
import static jcuda.jcudnn.JCudnn.cudnnDestroyTensorDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnSetStream;
import static jcuda.jcudnn.JCudnn.cudnnSetTensor4dDescriptor;
import static jcuda.jcudnn.JCudnn.cudnnSoftmaxBackward;
import static jcuda.jcudnn.JCudnn.cudnnSoftmaxForward;

import dev.receptive.tensor.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.jcudnn.JCudnn;
import jcuda.jcudnn.cudnnDataType;
import jcuda.jcudnn.cudnnHandle;
import jcuda.jcudnn.cudnnSoftmaxAlgorithm;
import jcuda.jcudnn.cudnnSoftmaxMode;
import jcuda.jcudnn.cudnnTensorDescriptor;
import jcuda.jcudnn.cudnnTensorFormat;
import jcuda.runtime.cudaStream_t;

/**
 * The cuDNN handle on the backend's stream, the status check, a cache of 4-d tensor descriptors
 * (one per shape, made once) and the small cuDNN ops: bias add, bias gradient, softmax.
 * Convolution and pooling live in {@link CudnnConv} and {@link CudnnPool}.
 */
final class Cudnn implements AutoCloseable {
    /** alpha = 1 and beta = 0/1 as host scalars (cuDNN's scaling factors are host pointers). */
    static final Pointer ONE = Pointer.to(new float[] {1f});
    static final Pointer ZERO = Pointer.to(new float[] {0f});

    final cudnnHandle handle = new cudnnHandle();
    private final Map<List<Integer>, cudnnTensorDescriptor> tensors = new HashMap<>();
    private boolean created;

    Cudnn(CUstream stream) {
        // JCudnn's own exceptions would name cuDNN 9 statuses with cuDNN 8's table: check here instead.
        JCudnn.setExceptionsEnabled(false);
        check(cudnnCreate(handle), "cudnnCreate");
        created = true;
        try {
            check(cudnnSetStream(handle, new cudaStream_t(stream)), "cudnnSetStream");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Throws (as the CUDA libraries do) when a cuDNN call did not return CUDNN_STATUS_SUCCESS. */
    static void check(int status, String call) {
        if (status != CudnnStatus.SUCCESS) {
            throw new CudaException("cuDNN " + call + " failed: " + CudnnStatus.describe(status));
        }
    }

    /** A fully packed NCHW float descriptor, cached per dimensions. */
    cudnnTensorDescriptor tensor(int n, int c, int h, int w) {
        return tensor(n, c, h, w, cudnnDataType.CUDNN_DATA_FLOAT);
    }

    /** A fully packed NCHW descriptor of {@code dataType} (cuDNN's cudnnDataType), cached per dimensions and type. */
    cudnnTensorDescriptor tensor(int n, int c, int h, int w, int dataType) {
        return tensors.computeIfAbsent(List.of(n, c, h, w, dataType), k -> {
            cudnnTensorDescriptor d = new cudnnTensorDescriptor();
            check(cudnnCreateTensorDescriptor(d), "cudnnCreateTensorDescriptor");
            int status = cudnnSetTensor4dDescriptor(d, cudnnTensorFormat.CUDNN_TENSOR_NCHW, dataType, n, c, h, w);
            if (status != CudnnStatus.SUCCESS) {
                cudnnDestroyTensorDescriptor(d);
                check(status, "cudnnSetTensor4dDescriptor" + k);
            }
            return d;
        });
    }

    /** A 4-d shape as is; a 2-d (N, F) or any other shape as (N, features, 1, 1). */
    cudnnTensorDescriptor tensor(Shape s) {
        if (s.rank() == 4) {
            return tensor(s.dim(0), s.dim(1), s.dim(2), s.dim(3));
        }
        return tensor(s.dim(0), s.sizePerItem(), 1, 1);
    }

    // y += b broadcast over channels. y: (N, C, H, W) or (N, C); b: (C)
    void addBias(CUdeviceptr y, Shape ys, CUdeviceptr b) {
        int c = ys.dim(1);
        check(cudnnAddTensor(handle, ONE, tensor(1, c, 1, 1), b, ONE, tensor(ys), y), "cudnnAddTensor");
    }

    // db[c] = Σ_{n,h,w} dy[n,c,h,w]. dy: (N, C, H, W) or (N, C); db: (C)
    void biasGradient(CUdeviceptr db, CUdeviceptr dy, Shape dys, boolean accumulate) {
        int c = dys.dim(1);
        check(cudnnConvolutionBackwardBias(handle, ONE, tensor(dys), dy, accumulate ? ONE : ZERO, tensor(1, c, 1, 1), db),
                "cudnnConvolutionBackwardBias");
    }

    // Softmax over the features of each row. x, y: (N, ...) seen as (N, F, 1, 1)
    void softmaxForward(CUdeviceptr y, CUdeviceptr x, Shape s, boolean log) {
        int algo = log ? cudnnSoftmaxAlgorithm.CUDNN_SOFTMAX_LOG : cudnnSoftmaxAlgorithm.CUDNN_SOFTMAX_ACCURATE;
        cudnnTensorDescriptor d = tensor(s.dim(0), s.sizePerItem(), 1, 1);
        check(cudnnSoftmaxForward(handle, algo, cudnnSoftmaxMode.CUDNN_SOFTMAX_MODE_INSTANCE, ONE, d, x, ZERO, d, y),
                "cudnnSoftmaxForward");
    }

    // dx = y ⊙ (dy − Σ dy ⊙ y) per row. dx, dy, y: (N, ...) seen as (N, F, 1, 1)
    void softmaxBackward(CUdeviceptr dx, CUdeviceptr dy, CUdeviceptr y, Shape s) {
        cudnnTensorDescriptor d = tensor(s.dim(0), s.sizePerItem(), 1, 1);
        check(cudnnSoftmaxBackward(handle, cudnnSoftmaxAlgorithm.CUDNN_SOFTMAX_ACCURATE,
                cudnnSoftmaxMode.CUDNN_SOFTMAX_MODE_INSTANCE, ONE, d, y, d, dy, ZERO, d, dx), "cudnnSoftmaxBackward");
    }

    @Override
    public void close() {
        for (cudnnTensorDescriptor d : new ArrayList<>(tensors.values())) {
            cudnnDestroyTensorDescriptor(d);
        }
        tensors.clear();
        if (created) {
            cudnnDestroy(handle);
            created = false;
        }
    }
}
