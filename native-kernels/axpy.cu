// axpy: y += alpha * x, elementwise. Built with -fmad=false so the product is rounded before the
// sum, exactly as Java evaluates y[i] += alpha * x[i].
// Launch: grid ceil(n / 256), block 256; one thread per element.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o axpy.ptx axpy.cu  (then build-ptx.sh retargets it, see README.md)
extern "C" __global__ void axpy(float* y, float alpha, const float* x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        y[i] = y[i] + alpha * x[i];
    }
}
