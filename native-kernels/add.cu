// add: y = a + b, elementwise. y may alias a or b (each thread reads before it writes its own index).
// Launch: grid ceil(n / 256), block 256; one thread per element.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o add.ptx add.cu  (then build-ptx.sh retargets it, see README.md)
extern "C" __global__ void add(float* y, const float* a, const float* b, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        y[i] = a[i] + b[i];
    }
}
