// dropout: inverted dropout with the Philox4x32-10 mask of docs/design.md ("Dropout RNG"), bit-identical
// to the CPU backend: element i keeps x[i] * scale iff u >= p, where, with g = offset + i the
// element's index in the whole (unsplit) batch,
//   key = (seedLo, seedHi), counter = (lo32(g >> 2), hi32(g >> 2), step, stream),
//   word = philox(counter, key)[g & 3], u = (word >> 8) * 2^-24.
// scale = 1f / (1f - p) is computed once in float32 on the host and passed in. y may be x.
// The same kernel is the backward pass (dx from dy): the mask depends only on (seed, stream, step, i).
// Launch: grid ceil(blocks / 256), block 256, blocks = ((offset + n - 1) >> 2) - (offset >> 2) + 1;
// one thread per Philox block of 4 elements.
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
                                   unsigned int seedLo, unsigned int seedHi, unsigned int stream, unsigned int step,
                                   long long offset)
{
    long long block = (offset >> 2) + (long long) blockIdx.x * blockDim.x + threadIdx.x;
    long long first = block * 4 - offset;  // index into x and y of the block's first element
    if (first >= n) {
        return;
    }
    unsigned int c[4] = {(unsigned int) block, (unsigned int) (block >> 32), step, stream};
    philox4x32_10(c, seedLo, seedHi);
    for (int k = 0; k < 4 && first + k < n; k++) {
        if (first + k < 0) {
            continue;
        }
        float u = (float) (c[k] >> 8) * 5.9604644775390625e-8f;  // 2^-24: exact, 24-bit value
        long long i = first + k;
        y[i] = u >= p ? x[i] * scale : 0.0f;
    }
}
