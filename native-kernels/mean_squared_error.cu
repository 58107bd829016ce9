// mean_squared_error: loss[0] = mean((p - t)^2) over all n elements; dp = 2 (p - t) / n when dp is
// not null; in double like the CPU backend. NaN in p or t makes the loss NaN (seen by the caller
// when it reads the loss).
// Launch: grid 1, block 256 (must be 256); threads stride over elements, then a fixed-order tree
// sum in double, so the loss is the same on every run.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o mean_squared_error.ptx mean_squared_error.cu  (then build-ptx.sh retargets it, see README.md)
#define THREADS 256

extern "C" __global__ void mean_squared_error(float* loss, float* dp, const float* p, const float* t, int n)
{
    __shared__ double part[THREADS];
    double acc = 0.0;
    for (int i = threadIdx.x; i < n; i += THREADS) {
        double d = (double) p[i] - t[i];
        acc += d * d;
        if (dp != nullptr) {
            dp[i] = (float) (2.0 * d / n);
        }
    }
    part[threadIdx.x] = acc;
    __syncthreads();
    for (int half = THREADS / 2; half > 0; half >>= 1) {
        if (threadIdx.x < half) {
            part[threadIdx.x] += part[threadIdx.x + half];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        loss[0] = (float) (part[0] / n);
    }
}
