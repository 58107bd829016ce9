// maxpool_backward: dx of max pooling. Each window's dy goes to the first input of the window, in
// row-major order with the padding left out, that equals the window's maximum y (or to the first
// NaN, which is what made y NaN): the position the CPU backend and the op contract name, where
// cuDNN's backward may pick another of several tied inputs.
// One thread per input element gathers the dy of every window that routes to it, in ascending
// output order, so overlapping windows add up in the CPU's order (bit-identical sums) and no
// atomics are needed (deterministic). dx is overwritten.
// x, dx: (planes, h, w); y, dy: (planes, outH, outW); planes = N·C; window (op, oq) covers rows
// op·strideH − padH .. op·strideH − padH + windowH − 1 (likewise columns), clipped to the input.
// Launch: grid ceil(planes·h·w / 256), block 256.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o maxpool_backward.ptx maxpool_backward.cu  (then build-ptx.sh retargets it, see README.md)
extern "C" __global__ void maxpool_backward(float* dx, const float* dy, const float* x, const float* y, int planes,
    int h, int w, int outH, int outW, int windowH, int windowW, int strideH, int strideW, int padH, int padW)
{
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    long long planeSize = (long long) h * w;
    if (i >= planeSize * planes) {
        return;
    }
    long long plane = i / planeSize;
    int r = (int) (i % planeSize) / w;
    int c = (int) (i % planeSize) % w;
    const float* xp = x + plane * planeSize;
    const float* yp = y + plane * outH * outW;
    const float* dyp = dy + plane * outH * outW;

    // Outputs whose window rows hold r: op·strideH − padH ≤ r ≤ op·strideH − padH + windowH − 1.
    int lowR = r + padH - windowH + 1;
    int op0 = lowR <= 0 ? 0 : (lowR + strideH - 1) / strideH;
    int op1 = min(outH - 1, (r + padH) / strideH);
    int lowC = c + padW - windowW + 1;
    int oq0 = lowC <= 0 ? 0 : (lowC + strideW - 1) / strideW;
    int oq1 = min(outW - 1, (c + padW) / strideW);

    float sum = 0.0f;
    for (int op = op0; op <= op1; op++) {
        int r0 = max(op * strideH - padH, 0);
        int r1 = min(op * strideH - padH + windowH, h);
        for (int oq = oq0; oq <= oq1; oq++) {
            int c0 = max(oq * strideW - padW, 0);
            int c1 = min(oq * strideW - padW + windowW, w);
            float m = yp[op * outW + oq];
            int first = -1;
            for (int rr = r0; rr < r1 && first < 0; rr++) {
                for (int cc = c0; cc < c1; cc++) {
                    float v = xp[rr * w + cc];
                    if (v == m || v != v) {
                        first = rr * w + cc;
                        break;
                    }
                }
            }
            if (first == r * w + c) {
                sum += dyp[op * outW + oq];
            }
        }
    }
    dx[i] = sum;
}
