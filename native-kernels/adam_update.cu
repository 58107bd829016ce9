// adam_update: one Adam (decoupled = 0) or AdamW (decoupled = 1) step in place, as AdamParams
// defines it for step t (bias corrections bc1 = 1 - beta1^t, bc2 = 1 - beta2^t come from the host):
//   g = dw + (decoupled ? 0 : weightDecay * w);  w = w - lr * weightDecay * w (AdamW only)
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   w = w - lr * (m / bc1) / (sqrt(v / bc2) + eps)
// Built with -fmad=false (no fused multiply-add) and IEEE sqrt/div: the same float operations in the
// same order as the CPU backend.
// Launch: grid ceil(n / 256), block 256; one thread per element.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o adam_update.ptx adam_update.cu  (then build-ptx.sh retargets it, see README.md)
extern "C" __global__ void adam_update(float* w, const float* dw, float* m, float* v, int n,
                                       float lr, float beta1, float beta2, float eps, float weightDecay,
                                       int decoupled, float bc1, float bc2)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    float wi = w[i];
    float g = dw[i];
    if (decoupled) {
        wi = wi - lr * weightDecay * wi;
    } else {
        g = g + weightDecay * wi;
    }
    float mi = beta1 * m[i] + (1.0f - beta1) * g;
    float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    w[i] = wi - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
}
