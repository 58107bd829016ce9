// softmax_cross_entropy: loss[0] = -(1/N) sum_n log softmax(z)[n, label_n] and, when dz is not
// null, dz = (softmax(z) - onehot(label)) / N. z, dz: (N, classes); labels: (N) whole floats.
// Per row in double like the CPU backend: max, sum of exp(z - max), loss max + log(sum) - z[label].
// The host never waits for the device here, so bad input cannot throw: a label that is not a whole
// number in [0, classes), or NaN in z, makes the loss NaN (and that row of dz NaN), which the caller
// sees when it reads the loss.
// Launch: grid 1, block 256 (must be 256); threads stride over rows, then a fixed-order tree sum in
// double, so the loss is the same on every run.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o softmax_cross_entropy.ptx softmax_cross_entropy.cu  (then build-ptx.sh retargets it, see README.md)
#define THREADS 256

extern "C" __global__ void softmax_cross_entropy(float* loss, float* dz, const float* z, const float* labels,
                                                 int n, int classes)
{
    __shared__ double part[THREADS];
    const double nan = __longlong_as_double(0x7ff8000000000000LL);
    double acc = 0.0;
    for (int r = threadIdx.x; r < n; r += THREADS) {
        const float* row = z + (long long) r * classes;
        double top = row[0];
        for (int j = 1; j < classes; j++) {
            top = row[j] > top || row[j] != row[j] ? row[j] : top;  // NaN wins, as Math.max
        }
        double total = 0.0;
        for (int j = 0; j < classes; j++) {
            total += exp((double) row[j] - top);
        }
        float label = labels[r];
        int y = (int) label;
        bool valid = label >= 0.0f && label < (float) classes && (float) y == label;
        acc += valid ? top + log(total) - row[y] : nan;
        if (dz != nullptr) {
            float* drow = dz + (long long) r * classes;
            for (int j = 0; j < classes; j++) {
                double p = exp((double) row[j] - top) / total;
                drow[j] = valid ? (float) ((j == y ? p - 1.0 : p) / n) : (float) nan;
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
