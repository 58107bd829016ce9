package dev.receptive.backend.cpu;

import dev.receptive.backend.AdamParams;
import dev.receptive.backend.SgdParams;

/**
 * In-place optimizer updates, elementwise in float32 with the formulas of SgdParams and
 * AdamParams, in PyTorch's order of operations (each product and sum rounded on its own, no
 * fused multiply-add, so any backend can reproduce it). Every element is independent, so the
 * result does not depend on the thread count.
 */
final class CpuOptimizers {
    /** Elements per parallel chunk at least: below that, thread hand-off costs more than the update. */
    private static final int GRAIN = 16384;

    private CpuOptimizers() {
    }

    // w, dw, velocity: n elements; velocity is null exactly when momentum is 0
    static void sgd(CpuParallel par, float[] w, float[] dw, float[] velocity, int n, SgdParams p) {
        float lr = p.lr();
        float mu = p.momentum();
        float wd = p.weightDecay();
        boolean nesterov = p.nesterov();
        par.forRange(n, GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                // Like PyTorch, no decay term at all when wd is 0 (0·inf would be NaN).
                float g = wd != 0 ? dw[i] + wd * w[i] : dw[i];
                if (velocity != null) {
                    // torch.optim.SGD, dampening 0: buf = μ·buf + g (a zero buffer gives g on step 1).
                    float v = mu * velocity[i] + g;
                    velocity[i] = v;
                    g = nesterov ? g + mu * v : v;
                }
                w[i] = w[i] - lr * g;
            }
        });
    }

    // w, dw, m, v: n elements
    static void adam(CpuParallel par, float[] w, float[] dw, float[] m, float[] v, int n, AdamParams p) {
        float lr = p.lr();
        float beta2 = p.beta2();
        float eps = p.eps();
        float l2 = p.decoupled() ? 0f : p.weightDecay();
        float decay = p.decoupled() ? 1f - lr * p.weightDecay() : 1f;
        float lerpWeight = 1f - p.beta1();
        float oneMinusBeta2 = 1f - beta2;
        float stepSize = lr / p.biasCorrection1();
        float bc2Sqrt = (float) Math.sqrt(p.biasCorrection2());
        par.forRange(n, GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                float wi = w[i];
                float g = l2 != 0 ? dw[i] + l2 * wi : dw[i];
                wi = wi * decay; // AdamW's param.mul_(1 − lr·wd); exact when decay is 1
                // exp_avg.lerp_(g, 1 − β1), with ATen's two-sided lerp (Lerp.h).
                float mi = m[i];
                mi = lerpWeight < 0.5f ? mi + lerpWeight * (g - mi) : g - (g - mi) * (1f - lerpWeight);
                // exp_avg_sq.mul_(β2).addcmul_(g, g, value = 1 − β2)
                float vi = v[i] * beta2 + oneMinusBeta2 * g * g;
                m[i] = mi;
                v[i] = vi;
                // PyTorch's denominator, sqrt(v)/sqrt(bc2) + eps, not sqrt(v/bc2) + eps (AdamParams).
                float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
                w[i] = wi - stepSize * mi / denom;
            }
        });
    }
}
