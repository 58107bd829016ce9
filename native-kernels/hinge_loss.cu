// hinge_loss: multi-class hinge, PyTorch's MultiMarginLoss with margin 1, in double like the CPU
// backend: loss[0] = (1/N) sum_n sum_{j != y_n} max(0, 1 - z[n, y_n] + z[n, j]) / classes, and dz
// its gradient when dz is not null: each violated margin (strictly > 0) puts 1/(classes N) on
// dz[n, j] and takes it off dz[n, y_n]. An invalid label (not a whole number in [0, classes)) or
// NaN in z makes the loss NaN.
// Launch: grid 1, block 256 (must be 256); threads stride over rows, then a fixed-order tree sum in
// double, so the loss is the same on every run.
// Build: nvcc -ptx -arch=compute_75 -fmad=false -o hinge_loss.ptx hinge_loss.cu  (then build-ptx.sh retargets it, see README.md)
#define THREADS 256

extern "C" __global__ void hinge_loss(float* loss, float* dz, const float* z, const float* labels, int n, int classes)
{
    __shared__ double part[THREADS];
    const double nan = __longlong_as_double(0x7ff8000000000000LL);
    double unit = 1.0 / ((double) n * classes);
    double acc = 0.0;
    for (int r = threadIdx.x; r < n; r += THREADS) {
        const float* row = z + (long long) r * classes;
        float* drow = dz != nullptr ? dz + (long long) r * classes : nullptr;
        float label = labels[r];
        int y = (int) label;
        if (!(label >= 0.0f && label < (float) classes && (float) y == label)) {
            acc += nan;
            for (int j = 0; drow != nullptr && j < classes; j++) {
                drow[j] = (float) nan;
            }
            continue;
        }
        double target = row[y];
        int violated = 0;
        for (int j = 0; j < classes; j++) {
            double margin = 1.0 - target + row[j];
            bool on = j != y && margin > 0.0;
            if (on) {
                acc += margin;
                violated++;
            }
            if (margin != margin) {
                acc += nan;
            }
            if (drow != nullptr) {
                drow[j] = on ? (float) unit : 0.0f;
            }
        }
        if (drow != nullptr) {
            drow[y] = (float) (-violated * unit);
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
        loss[0] = (float) (part[0] / classes / n);
    }
}
