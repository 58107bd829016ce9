// sgd_update: one SGD step in place, PyTorch semantics with dampening 0 (see SgdParams):
//   g = dw + weightDecay * w; v = momentum * v + g; step = nesterov ? g + momentum * v : v
//   (step = g and v untouched when velocity is null, i.e. momentum 0); w = w - lr * step.
// Built with -fmad=false: every product is rounded before the sum, as in Java float arithmetic.
// Launch: grid ceil(n / 256), block 256; one thread per element.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o sgd_update.ptx sgd_update.cu  (then build-ptx.sh retargets it, see README.md)
extern "C" __global__ void sgd_update(float* w, const float* dw, float* velocity, int n,
                                      float lr, float momentum, float weightDecay, int nesterov)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    float wi = w[i];
    float g = dw[i] + weightDecay * wi;
    float step = g;
    if (velocity != nullptr) {
        float v = momentum * velocity[i] + g;
        velocity[i] = v;
        step = nesterov ? g + momentum * v : v;
    }
    w[i] = wi - lr * step;
}
