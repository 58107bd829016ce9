// softmax_cross_entropy: loss[0] = -(1/N) sum_n log softmax(z)[n, label_n] and, when dz is not
// null, dz = (softmax(z) - onehot(label)) / N. z, dz: (N, classes); labels: (N) whole floats.
// The host never waits for the device here, so bad input cannot throw: a label that is not a whole
// number in [0, classes), or NaN in z, makes the loss NaN, which the caller sees when it reads it.
// Launch: grid 1, block 256 (must be 256); threads stride over rows, then a fixed-order tree sum in
// double, so the loss is the same on every run.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o softmax_cross_entropy.ptx softmax_cross_entropy.cu  (then build-ptx.sh retargets it, see README.md)
#define THREADS 256

extern "C" __global__ void softmax_cross_entropy(float* loss, float* dz, const float* z, const float* labels,
                                                 int n, int classes)
{
    __shared__ double part[THREADS];
    double acc = 0.0;
    for (int r = threadIdx.x; r < n; r += THREADS) {
        const float* row = z + (long long) r * classes;
        float top = row[0];
        for (int j = 1; j < classes; j++) {
            top = row[j] > top ? row[j] : top;
        }
        float total = 0.0f;
        for (int j = 0; j < classes; j++) {
            total += expf(row[j] - top);
        }
        float label = labels[r];
        int y = (int) label;
        bool valid = label >= 0.0f && label < (float) classes && (float) y == label;
        if (valid) {
            acc += (double) (top + logf(total) - row[y]);
        } else {
            acc = __longlong_as_double(0x7ff8000000000000LL);  // NaN: invalid label
        }
        if (dz != nullptr) {
            float* drow = dz + (long long) r * classes;
            for (int j = 0; j < classes; j++) {
                float p = expf(row[j] - top) / total;
                drow[j] = valid ? (p - (j == y ? 1.0f : 0.0f)) / (float) n : __int_as_float(0x7fc00000);
            }
        }
    }
    part[threadIdx.x] = acc;
    __syncthreads();
    for (int half = THREADS / 2; half > 0; half >>= 1) {
        if (threadIdx.x < half) {
            part[threadIdx.x] += part[threadIdx.x + half];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        loss[0] = (float) (part[0] / n);
    }
}
