// argmax: out[r] = index of the largest x[r, j] (the first one on ties), stored as a float.
// x: (rows, cols) row-major; out: (rows).
// Launch: grid ceil(rows / 256), block 256; one thread per row (rows are short: class scores).
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o argmax.ptx argmax.cu  (then build-ptx.sh retargets it, see README.md)
extern "C" __global__ void argmax(float* out, const float* x, int rows, int cols)
{
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) {
        return;
    }
    const float* row = x + (long long) r * cols;
    int best = 0;
    float top = row[0];
    for (int j = 1; j < cols; j++) {
        if (row[j] > top) {
            top = row[j];
            best = j;
        }
    }
    out[r] = (float) best;
}
