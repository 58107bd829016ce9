// activation_forward: y = f(x), elementwise; y may be x. Computed like the CPU backend: ReLU
// max(x, 0) letting NaN through (-0 gives +0); tanh and sigmoid in double, rounded once to float.
// mode 0: ReLU; 1: tanh; 2: sigmoid 1 / (1 + e^-x) (CudaKernels maps Activation to the mode).
// Our own kernel, not cudnnActivationForward, so that forward and backward (which must work from
// y alone, see activation_backward.cu) share one definition.
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
        y[i] = !(v <= 0.0f) ? v : 0.0f;
    } else if (mode == 1) {
        y[i] = (float) tanh((double) v);
    } else {
        y[i] = (float) (1.0 / (1.0 + exp(-(double) v)));
    }
}
