// Runs native-kernels/float_to_bf16.cu and bf16_to_float.cu on the CPU, thread by thread, so their
// bit arithmetic can be checked without a GPU (Bf16KernelsOnHostTest compiles it with
// g++ -DTO='"float_to_bf16.cu"' -DFROM='"bf16_to_float.cu"').
// stdin: n, then n float bit patterns (hex), then n bf16 patterns (hex) and n float patterns for the
// widening with accumulate; stdout: n bf16 patterns, n widened floats, n accumulated floats.
#include <cstdio>
#include <cstring>
#include <vector>
struct Dim3 {
    unsigned x, y, z;
};
static Dim3 blockIdx, blockDim, threadIdx;
#define __global__
static unsigned int __float_as_uint(float f) {
    unsigned int u;
    std::memcpy(&u, &f, 4);
    return u;
}
static float __uint_as_float(unsigned int u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
#include TO
#include FROM

int main() {
    int n;
    if (std::scanf("%d", &n) != 1) {
        return 2;
    }
    std::vector<float> x(n), acc(n);
    std::vector<unsigned short> b(n), in(n);
    for (auto& v : x) {
        unsigned u;
        if (std::scanf("%x", &u) != 1) return 3;
        v = __uint_as_float(u);
    }
    for (auto& v : in) {
        unsigned u;
        if (std::scanf("%x", &u) != 1) return 3;
        v = (unsigned short) u;
    }
    for (auto& v : acc) {
        unsigned u;
        if (std::scanf("%x", &u) != 1) return 3;
        v = __uint_as_float(u);
    }
    std::vector<float> widened(n, 12345.0f);
    blockDim.x = 256;
    for (blockIdx.x = 0; blockIdx.x < (unsigned) (n + 255) / 256; blockIdx.x++) {
        for (threadIdx.x = 0; threadIdx.x < 256; threadIdx.x++) {
            float_to_bf16(b.data(), x.data(), n);
            bf16_to_float(widened.data(), in.data(), n, 0);
            bf16_to_float(acc.data(), in.data(), n, 1);
        }
    }
    for (auto v : b) std::printf("%04x\n", v);
    for (auto v : widened) std::printf("%08x\n", __float_as_uint(v));
    for (auto v : acc) std::printf("%08x\n", __float_as_uint(v));
    return 0;
}
