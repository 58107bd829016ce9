package dev.receptive.backend;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.ContractBase;
import dev.receptive.testing.GradCheck;
import dev.receptive.testing.Rand;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The contract of the pointwise ops on any backend: activations, softmax and log-softmax over
 * rows, softmax backward, and the helpers add, scale, axpy, argmax and sum.
 */
public abstract class ActivationContract extends ContractBase {
    // Against double-precision references: a few fp32 roundings of values of order 1.
    private static final double ATOL = 1e-6;
    private static final double RTOL = 1e-5;
    // Finite-difference step: the scalar functions below are evaluated in double, so the central
    // quotient is exact to O(h²) ≈ 1e-10 and the fp32 tolerances above still apply.
    private static final double H = 1e-5;

    // ---- activations --------------------------------------------------------------------

    private float[] activate(Activation f, float... x) {
        Tensor y = zeros(x.length);
        backend.activationForward(f, y, t(x, x.length));
        return get(y);
    }

    @Test
    void activationsOfHandValues() {
        float[] x = {-1000, -2, -0.5f, 0, 0.5f, 2, 1000};
        Close.assertClose("relu", new float[] {0, 0, 0, 0, 0.5f, 2, 1000}, activate(Activation.RELU, x), 0, 0);
        Close.assertClose("tanh", new double[] {-1, -0.964027580, -0.462117157, 0, 0.462117157, 0.964027580, 1},
                activate(Activation.TANH, x), ATOL, RTOL);
        Close.assertClose("sigmoid", new double[] {0, 0.119202922, 0.377540669, 0.5, 0.622459331, 0.880797078, 1},
                activate(Activation.SIGMOID, x), ATOL, RTOL);
        // Near 0 tanh x ≈ x: relative accuracy matters there, so no absolute slack.
        Close.assertClose("tanh near 0", new double[] {Math.tanh(1e-30f), Math.tanh(-1e-5f), Math.tanh(3e-4f)},
                activate(Activation.TANH, 1e-30f, -1e-5f, 3e-4f), 0, RTOL);
    }

    @Test
    void activationBackwardOfHandValues() {
        // dy = 2 everywhere; derivatives through y: relu [y > 0], tanh 1 − y², sigmoid y(1 − y).
        float[] dyData = {2, 2, 2};
        Tensor dx = zeros(3);
        backend.activationBackward(Activation.RELU, dx, t(dyData, 3), t(new float[] {0, 0.5f, 3}, 3));
        Close.assertClose("relu", new float[] {0, 2, 2}, get(dx), 0, 0);
        backend.activationBackward(Activation.TANH, dx, t(dyData, 3), t(new float[] {0, 0.5f, -0.5f}, 3));
        Close.assertClose("tanh", new float[] {2, 1.5f, 1.5f}, get(dx), ATOL, RTOL);
        backend.activationBackward(Activation.SIGMOID, dx, t(dyData, 3), t(new float[] {0.5f, 0.25f, 1}, 3));
        Close.assertClose("sigmoid", new float[] {0.5f, 0.375f, 0}, get(dx), ATOL, RTOL);
    }

    @Test
    void randomActivationsMatchReferenceInPlace() {
        Rand rand = new Rand(11);
        int n = 40_000; // large enough that a multi-threaded backend splits the loop
        for (Activation f : Activation.values()) {
            float[] x = rand.uniform(n, -4, 4);
            float[] dyData = rand.uniform(n, -1, 1);
            // y = f(x) written over x, then dx = dy·f' written over dy: both aliasings are allowed.
            Tensor y = t(x, n);
            backend.activationForward(f, y, y);
            float[] yData = get(y);
            double[] yRef = new double[n];
            double[] dxRef = new double[n];
            for (int i = 0; i < n; i++) {
                yRef[i] = apply(f, x[i]);
                dxRef[i] = dyData[i] * derivative(f, yData[i]);
            }
            Close.assertClose(f + " y", yRef, yData, ATOL, RTOL);
            Tensor dy = t(dyData, n);
            backend.activationBackward(f, dy, dy, y);
            Close.assertClose(f + " dx", dxRef, get(dy), ATOL, RTOL);
        }
    }

    @Test
    void activationBackwardMatchesFiniteDifferences() {
        Rand rand = new Rand(12);
        int n = 64;
        float[] x = rand.uniform(n, -2, 2);
        for (int i = 0; i < n; i++) {
            // Keep |x| ≥ 0.1 so that no step crosses ReLU's kink at 0.
            x[i] = Math.copySign(0.1f + Math.abs(x[i]), x[i]);
        }
        float[] dy = rand.uniform(n, -1, 1);
        for (Activation f : Activation.values()) {
            double[] numeric = GradCheck.numeric(v -> {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += dy[i] * apply(f, v[i]);
                }
                return s;
            }, x, H);
            Tensor y = zeros(n);
            backend.activationForward(f, y, t(x, n));
            Tensor dx = zeros(n);
            backend.activationBackward(f, dx, t(dy, n), y);
            Close.assertClose(f + " dx", numeric, get(dx), ATOL, RTOL);
        }
    }

    private static double apply(Activation f, double x) {
        return switch (f) {
            case RELU -> Math.max(x, 0);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
        };
    }

    private static double derivative(Activation f, double y) {
        return switch (f) {
            case RELU -> y > 0 ? 1 : 0;
            case TANH -> 1 - y * y;
            case SIGMOID -> y * (1 - y);
        };
    }

    // ---- softmax ------------------------------------------------------------------------

    private float[] softmax(boolean log, float[] x, int... dims) {
        Tensor y = zeros(dims);
        if (log) {
            backend.logSoftmaxForward(y, t(x, dims));
        } else {
            backend.softmaxForward(y, t(x, dims));
        }
        return get(y);
    }

    @Test
    void softmaxOfHandRows() {
        // Rows are independent: [1, 2, 3] and a constant row.
        float[] x = {1, 2, 3, 5, 5, 5};
        Close.assertClose("softmax", new double[] {0.0900305732, 0.244728471, 0.665240956, 1 / 3.0, 1 / 3.0, 1 / 3.0},
                softmax(false, x, 2, 3), ATOL, RTOL);
        double third = -Math.log(3);
        Close.assertClose("log-softmax", new double[] {-2.40760596, -1.40760596, -0.407605964, third, third, third},
                softmax(true, x, 2, 3), ATOL, RTOL);
    }

    @Test
    void softmaxOfHugeLogitsIsFinite() {
        // exp(1000) overflows even in double; a stable softmax subtracts the row max first.
        float[] x = {1000, 1001, -1001, -1000};
        Close.assertClose("softmax", new double[] {0.268941421, 0.731058579, 0.268941421, 0.731058579},
                softmax(false, x, 2, 2), ATOL, RTOL);
        Close.assertClose("log-softmax", new double[] {-1.31326169, -0.313261687, -1.31326169, -0.313261687},
                softmax(true, x, 2, 2), ATOL, RTOL);
    }

    @Test
    void randomRowsMatchReference() {
        Rand rand = new Rand(13);
        int[][] shapes = {{7, 10}, {5, 3, 2, 2}, {1, 1}, {3000, 10}};
        for (int[] dims : shapes) {
            int rows = dims[0];
            int cols = Arrays.stream(dims).skip(1).reduce(1, (p, d) -> p * d);
            float[] x = rand.uniform(rows * cols, -8, 8);
            double[] y = new double[x.length];
            double[] logY = new double[x.length];
            for (int r = 0; r < rows; r++) {
                double[] row = Close.toDouble(Arrays.copyOfRange(x, r * cols, (r + 1) * cols));
                double logSum = logSumExp(row);
                for (int i = 0; i < cols; i++) {
                    logY[r * cols + i] = row[i] - logSum;
                    y[r * cols + i] = Math.exp(row[i] - logSum);
                }
            }
            String what = Arrays.toString(dims);
            Close.assertClose(what + " softmax", y, softmax(false, x, dims), ATOL, RTOL);
            Close.assertClose(what + " log-softmax", logY, softmax(true, x, dims), ATOL, RTOL);
        }
    }

    @Test
    void softmaxBackwardMatchesFiniteDifferences() {
        Rand rand = new Rand(14);
        int rows = 4;
        int cols = 6;
        float[] x = rand.uniform(rows * cols, -3, 3);
        float[] dy = rand.uniform(rows * cols, -1, 1);
        // L(x) = Σ dy·softmax(x), softmax in double.
        double[] numeric = GradCheck.numeric(v -> {
            double s = 0;
            for (int r = 0; r < rows; r++) {
                double[] row = Arrays.copyOfRange(v, r * cols, (r + 1) * cols);
                double logSum = logSumExp(row);
                for (int i = 0; i < cols; i++) {
                    s += dy[r * cols + i] * Math.exp(row[i] - logSum);
                }
            }
            return s;
        }, x, H);
        Tensor y = zeros(rows, cols);
        backend.softmaxForward(y, t(x, rows, cols));
        Tensor dyT = t(dy, rows, cols);
        Tensor dx = zeros(rows, cols);
        backend.softmaxBackward(dx, dyT, y);
        Close.assertClose("dx", numeric, get(dx), ATOL, RTOL);
        // dx may be dy.
        backend.softmaxBackward(dyT, dyT, y);
        Close.assertClose("dx over dy", numeric, get(dyT), ATOL, RTOL);
    }

    private static double logSumExp(double[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : row) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (double v : row) {
            s += Math.exp(v - max);
        }
        return max + Math.log(s);
    }

    // ---- helpers ------------------------------------------------------------------------

    @Test
    void addScaleAxpyOfHandValues() {
        Tensor a = t(new float[] {1, 2, -3}, 3);
        Tensor b = t(new float[] {0.5f, -2, 4}, 3);
        backend.add(a, a, b); // y may be a
        Close.assertClose("add", new float[] {1.5f, 0, 1}, get(a), 0, 0);
        backend.scale(a, a, -2); // y may be x
        Close.assertClose("scale", new float[] {-3, 0, -2}, get(a), 0, 0);
        backend.axpy(a, 0.5f, b);
        Close.assertClose("axpy", new float[] {-2.75f, -1, 0}, get(a), 0, 0);
    }

    @Test
    void randomAddScaleAxpyMatchReference() {
        Rand rand = new Rand(15);
        int n = 40_000;
        float[] a = rand.uniform(n, -1, 1);
        float[] b = rand.uniform(n, -1, 1);
        double[] sum = new double[n];
        double[] scaled = new double[n];
        double[] axpy = new double[n];
        for (int i = 0; i < n; i++) {
            sum[i] = (double) a[i] + b[i];
            scaled[i] = 0.3 * a[i];
            axpy[i] = b[i] + 0.3 * a[i];
        }
        Tensor at = t(a, n);
        Tensor bt = t(b, n);
        Tensor y = zeros(n);
        backend.add(y, at, bt);
        Close.assertClose("add", sum, get(y), ATOL, RTOL);
        backend.scale(y, at, 0.3f);
        Close.assertClose("scale", scaled, get(y), ATOL, RTOL);
        backend.axpy(bt, 0.3f, at);
        Close.assertClose("axpy", axpy, get(bt), ATOL, RTOL);
    }

    @Test
    void argmaxTakesFirstIndexOnTies() {
        float[] x = {1, 3, 3, 0, 5, 5, 5, 5, -1, -2, -0.5f, -3};
        Tensor out = zeros(3);
        backend.argmax(out, t(x, 3, 4));
        Close.assertClose("argmax", new float[] {1, 0, 2}, get(out), 0, 0);
        // Features of a row may have several dimensions: (N, C, H, W) is N rows of C·H·W.
        Tensor out2 = zeros(2);
        backend.argmax(out2, t(new float[] {0, 1, 2, 9, 7, 6, 5, 4}, 2, 1, 2, 2));
        Close.assertClose("argmax 4-d", new float[] {3, 0}, get(out2), 0, 0);
    }

    @Test
    void sumOfHandAndRandomValues() {
        Tensor out = zeros(1);
        backend.sum(out, t(new float[] {1, 2, 3, 4.5f, -0.25f}, 5));
        Close.assertClose("sum", 10.25, get(out)[0], 0, 0);

        int n = 50_000;
        float[] x = new Rand(16).uniform(n, -1, 1);
        double expected = 0;
        for (float v : x) {
            expected += v;
        }
        backend.sum(out, t(x, 10, n / 10));
        // A plain fp32 running sum of 50k values in [−1, 1] drifts by about 1e-3 (√n roundings of
        // partial sums of size ~√n); this bound admits any fp32 reduction order.
        Close.assertClose("random sum", expected, get(out)[0], 1e-3, RTOL);
    }

    // ---- bad input ----------------------------------------------------------------------

    @Test
    void mismatchedShapesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.activationForward(Activation.TANH, zeros(2, 3), zeros(3, 2)));
        assertMentions(e, "activationForward(TANH)", "(3, 2)", "(2, 3)");
        e = assertThrows(IllegalArgumentException.class, () -> backend.softmaxForward(zeros(4), zeros(4)));
        assertMentions(e, "softmaxForward", "(4,)");
        e = assertThrows(IllegalArgumentException.class,
                () -> backend.softmaxBackward(zeros(2, 3), zeros(2, 4), zeros(2, 3)));
        assertMentions(e, "softmaxBackward", "(2, 3)", "(2, 4)");
        e = assertThrows(IllegalArgumentException.class, () -> backend.argmax(zeros(3), zeros(2, 5)));
        assertMentions(e, "argmax", "(2,)", "(3,)");
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should name " + part + ": " + e.getMessage());
        }
    }
}
