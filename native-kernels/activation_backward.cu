// activation_backward: dx = dy * f'(x), written through y = f(x) as the op contract defines it:
// ReLU [y > 0]; tanh 1 - y^2; sigmoid y (1 - y), with the CPU backend's float operations in the
// same order (-fmad=false), so the result is bit-identical. dx may be dy.
// cudnnActivationBackward would also ask for x, which the contract does not keep; this kernel needs none.
// mode 0: ReLU; 1: tanh; 2: sigmoid.
// Launch: grid ceil(n / 256), block 256; one thread per element.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o activation_backward.ptx activation_backward.cu  (then build-ptx.sh retargets it, see README.md)
extern "C" __global__ void activation_backward(float* dx, const float* dy, const float* y, int n, int mode)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    float g = dy[i];
    float v = y[i];
    if (mode == 0) {
        dx[i] = v > 0.0f ? g : 0.0f;
    } else if (mode == 1) {
        dx[i] = g * (1.0f - v * v);
    } else {
        dx[i] = g * v * (1.0f - v);
    }
}
