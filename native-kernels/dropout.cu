// dropout: inverted dropout with the Philox4x32-10 mask of DESIGN.md ("Dropout RNG"), bit-identical
// to the CPU backend: element i keeps x[i] * scale iff u >= p, where
//   key = (seedLo, seedHi), counter = (lo32(i >> 2), hi32(i >> 2), step, stream),
//   word = philox(counter, key)[i & 3], u = (word >> 8) * 2^-24.
// scale = 1f / (1f - p) is computed once in float32 on the host and passed in. y may be x.
// The same kernel is the backward pass (dx from dy): the mask depends only on (seed, stream, step, i).
// Launch: grid ceil(ceil(n / 4) / 256), block 256; one thread per Philox block of 4 elements.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o dropout.ptx dropout.cu  (then build-ptx.sh retargets it, see README.md)

// Philox4x32-10 (Salmon et al., SC'11): 10 rounds, the key bumped by (W0, W1) between rounds.
__device__ static void philox4x32_10(unsigned int c[4], unsigned int k0, unsigned int k1)
{
    const unsigned int M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
    for (int round = 0; round < 10; round++) {
        unsigned int hi0 = __umulhi(M0, c[0]), lo0 = M0 * c[0];
        unsigned int hi1 = __umulhi(M1, c[2]), lo1 = M1 * c[2];
        unsigned int n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = lo1;
        c[2] = n2;
        c[3] = lo0;
        k0 += W0;
        k1 += W1;
    }
}

extern "C" __global__ void dropout(float* y, const float* x, int n, float p, float scale,
                                   unsigned int seedLo, unsigned int seedHi, unsigned int stream, unsigned int step)
{
    long long block = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    long long first = block * 4;
    if (first >= n) {
        return;
    }
    unsigned int c[4] = {(unsigned int) block, (unsigned int) (block >> 32), step, stream};
    philox4x32_10(c, seedLo, seedHi);
    for (int k = 0; k < 4 && first + k < n; k++) {
        float u = (float) (c[k] >> 8) * 5.9604644775390625e-8f;  // 2^-24: exact, 24-bit value
        long long i = first + k;
        y[i] = u >= p ? x[i] * scale : 0.0f;
    }
}
