// bf16_to_float: y = x widened to float (exact), or y += x when accumulate is 1: the results of
// convolutions run in bf16 back into the fp32 tensors (CudaOptions.Precision.BF16).
// Launch: grid ceil(n / 256), block 256; one thread per element.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o bf16_to_float.ptx bf16_to_float.cu  (then build-ptx.sh retargets it, see README.md)
extern "C" __global__ void bf16_to_float(float* y, const unsigned short* x, int n, int accumulate)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float v = __uint_as_float(((unsigned int) x[i]) << 16);
        y[i] = accumulate ? y[i] + v : v;
    }
}
