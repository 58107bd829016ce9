// adam_update: one Adam or AdamW step in place, with the float32 operations of AdamParams in the
// same order as the CPU backend (PyTorch's single-tensor Adam). The host folds the step's scalars
// exactly as CpuOptimizers does: l2 = Adam's L2 weight decay (0 for AdamW), decay = 1 - lr*wd for
// AdamW (1 for Adam), a = 1 - beta1, stepSize = lr / bc1, bc2Sqrt = sqrt(bc2). Per element:
//   g = l2 != 0 ? dw + l2 w : dw;   w = w * decay
//   m = a < 0.5 ? m + a (g - m) : g - (g - m)(1 - a)      (ATen's two-sided lerp)
//   v = v beta2 + (1 - beta2) g g;  w = w - stepSize m / (sqrt(v) / bc2Sqrt + eps)
// Built with -fmad=false and IEEE sqrt/div, so every result is bit-identical to the CPU's.
// Launch: grid ceil(n / 256), block 256; one thread per element.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o adam_update.ptx adam_update.cu  (then build-ptx.sh retargets it, see README.md)
extern "C" __global__ void adam_update(float* w, const float* dw, float* m, float* v, int n,
                                       float l2, float decay, float a, float beta2, float oneMinusBeta2,
                                       float stepSize, float bc2Sqrt, float eps)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    float wi = w[i];
    float g = l2 != 0.0f ? dw[i] + l2 * wi : dw[i];
    wi = wi * decay;
    float mi = m[i];
    mi = a < 0.5f ? mi + a * (g - mi) : g - (g - mi) * (1.0f - a);
    float vi = v[i] * beta2 + oneMinusBeta2 * g * g;
    m[i] = mi;
    v[i] = vi;
    float denom = sqrtf(vi) / bc2Sqrt + eps;
    w[i] = wi - stepSize * mi / denom;
}
