// sgd_update: one SGD step in place, PyTorch semantics with dampening 0 (see SgdParams), with the
// float32 operations of the CPU backend in the same order:
//   g = weightDecay != 0 ? dw + weightDecay w : dw      (no 0 * inf = NaN when decay is off)
//   v = momentum v + g; g = nesterov ? g + momentum v : v   (only when velocity is not null)
//   w = w - lr g
// Built with -fmad=false: every product is rounded before the sum, as in Java, so the result is
// bit-identical to the CPU's.
// Launch: grid ceil(n / 256), block 256; one thread per element.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o sgd_update.ptx sgd_update.cu  (then build-ptx.sh retargets it, see README.md)
extern "C" __global__ void sgd_update(float* w, const float* dw, float* velocity, int n,
                                      float lr, float momentum, float weightDecay, int nesterov)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    float g = weightDecay != 0.0f ? dw[i] + weightDecay * w[i] : dw[i];
    if (velocity != nullptr) {
        float v = momentum * velocity[i] + g;
        velocity[i] = v;
        g = nesterov ? g + momentum * v : v;
    }
    w[i] = w[i] - lr * g;
}
