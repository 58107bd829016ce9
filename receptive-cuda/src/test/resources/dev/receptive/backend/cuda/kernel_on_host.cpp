// Runs one of native-kernels/*.cu on the CPU, thread by thread, so its index arithmetic and
// branching can be checked without a GPU (MaxPoolKernelOnHostTest compiles it with
// g++ -DKERNEL='"path/to/kernel.cu"').
// stdin: the launch's int arguments, then the float arrays as 8-digit hex bit patterns; stdout:
// the first array (the kernel's output) the same way. Only maxpool_backward is wired here.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
using std::max;
using std::min;
struct Dim3 {
    unsigned x, y, z;
};
static Dim3 blockIdx, blockDim, threadIdx;
#define __global__
#include KERNEL

static float readFloat() {
    unsigned bits;
    if (std::scanf("%x", &bits) != 1) {
        std::exit(3);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

int main() {
    int a[11];
    for (int& v : a) {
        if (std::scanf("%d", &v) != 1) {
            return 2;
        }
    }
    int planes = a[0], h = a[1], w = a[2], outH = a[3], outW = a[4];
    long long in = (long long) planes * h * w, out = (long long) planes * outH * outW;
    std::vector<float> dx(in, 12345.0f), dy(out), x(in), y(out);
    for (auto& v : dy) v = readFloat();
    for (auto& v : x) v = readFloat();
    for (auto& v : y) v = readFloat();
    blockDim.x = 256;
    for (blockIdx.x = 0; blockIdx.x < (in + 255) / 256; blockIdx.x++) {
        for (threadIdx.x = 0; threadIdx.x < 256; threadIdx.x++) {
            maxpool_backward(dx.data(), dy.data(), x.data(), y.data(), planes, h, w, outH, outW, a[5], a[6], a[7], a[8],
                a[9], a[10]);
        }
    }
    for (float f : dx) {
        unsigned bits;
        std::memcpy(&bits, &f, 4);
        std::printf("%08x\n", bits);
    }
    return 0;
}
