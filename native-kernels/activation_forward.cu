// activation_forward: y = f(x), elementwise; y may be x.
// mode 0: ReLU max(0, x); 1: tanh(x); 2: sigmoid 1 / (1 + e^-x) (CudaKernels passes the mode).
// Our own kernel rather than cudnnActivationForward so that forward and backward (which must work
// from y alone, see activation_backward.cu) use one definition.
// Launch: grid ceil(n / 256), block 256; one thread per element.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o activation_forward.ptx activation_forward.cu  (then build-ptx.sh retargets it, see README.md)
extern "C" __global__ void activation_forward(float* y, const float* x, int n, int mode)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    float v = x[i];
    if (mode == 0) {
        y[i] = v > 0.0f ? v : 0.0f;
    } else if (mode == 1) {
        y[i] = tanhf(v);
    } else {
        y[i] = 1.0f / (1.0f + expf(-v));
    }
}
