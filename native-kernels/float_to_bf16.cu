// float_to_bf16: y = x rounded to bfloat16 (the high 16 bits of the float, round to nearest even),
// for convolutions run in bf16 (CudaOptions.Precision.BF16). NaN stays NaN (quiet), ±inf stays inf.
// Launch: grid ceil(n / 256), block 256; one thread per element.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o float_to_bf16.ptx float_to_bf16.cu  (then build-ptx.sh retargets it, see README.md)
extern "C" __global__ void float_to_bf16(unsigned short* y, const float* x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        unsigned int b = __float_as_uint(x[i]);
        if ((b & 0x7fffffffu) > 0x7f800000u) {
            y[i] = (unsigned short) ((b >> 16) | 0x40u);
        } else {
            y[i] = (unsigned short) ((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
        }
    }
}
