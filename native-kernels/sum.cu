// sum: out[0] = sum of x[0..n), accumulated in double. One block with a fixed thread count, so the
// order of additions (and the result) never changes between runs.
// Launch: grid 1, block 256 (must be 256: the shared array and the tree below assume it).
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o sum.ptx sum.cu  (then build-ptx.sh retargets it, see README.md)
#define THREADS 256

extern "C" __global__ void sum(float* out, const float* x, int n)
{
    __shared__ double part[THREADS];
    double s = 0.0;
    for (int i = threadIdx.x; i < n; i += THREADS) {
        s += (double) x[i];
    }
    part[threadIdx.x] = s;
    __syncthreads();
    for (int half = THREADS / 2; half > 0; half >>= 1) {
        if (threadIdx.x < half) {
            part[threadIdx.x] += part[threadIdx.x + half];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        out[0] = (float) part[0];
    }
}
