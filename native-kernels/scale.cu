// scale: y = alpha * x, elementwise. y may be x.
// Launch: grid ceil(n / 256), block 256; one thread per element.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o scale.ptx scale.cu  (then build-ptx.sh retargets it, see README.md)
extern "C" __global__ void scale(float* y, const float* x, float alpha, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        y[i] = alpha * x[i];
    }
}
