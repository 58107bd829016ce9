package dev.receptive.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.nn.Model;
import dev.receptive.nn.Parameter;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Workspace;
import dev.receptive.nn.loss.Loss;
import dev.receptive.tensor.Tensor;
import java.util.Arrays;

/**
 * Whole-model backpropagation against central finite differences of the model's own float
 * forward pass, for every parameter.
 *
 * <p>Tolerance: the model computes in float32, so each loss carries a rounding error of a few
 * ulps (~5e-7 for a loss near 1); divided by 2h = 0.02 that is ~3e-5 in the difference quotient,
 * and the O(h²) truncation error adds ~2e-5. Hence atol 2e-4 with rtol 1e-3: looser than the
 * usual 1e-5 because the reference is a float difference quotient, yet ~100× below the size of
 * a typical gradient entry, so a wrong backward fails. Callers keep kinks (ReLU at 0, max-pool
 * ties) out of reach of the ±h steps.
 */
public final class ModelGradients {
    /** The step h. */
    public static final double H = 1e-2;

    private ModelGradients() {
    }

    /** Checks ∂loss/∂p of every parameter p of {@code model} at input x against finite differences. */
    public static void checkEveryParameter(Model model, Loss loss, Tensor x, Tensor target) {
        checkEveryParameter(model, loss, x, target, Pass.EVAL);
    }

    /**
     * As {@link #checkEveryParameter(Model, Loss, Tensor, Tensor)} with every pass a {@code pass}
     * (a training pass for batch norm, whose training output does not depend on its running
     * statistics).
     */
    public static void checkEveryParameter(Model model, Loss loss, Tensor x, Tensor target, Pass pass) {
        try (Workspace ws = model.newWorkspace()) {
            model.zeroGrad();
            loss.compute(ws.forward(x, pass), target);
            ws.backward(loss.gradient());
            for (Parameter p : model.parameters()) {
                float[] analytic = p.grad().toArray();
                float[] w = p.value().toArray();
                double[] numeric = new double[w.length];
                for (int i = 0; i < w.length; i++) {
                    float keep = w[i];
                    float up = (float) (keep + H);
                    float down = (float) (keep - H);
                    w[i] = up;
                    double plus = lossAt(ws, loss, p, w, x, target, pass);
                    w[i] = down;
                    double minus = lossAt(ws, loss, p, w, x, target, pass);
                    w[i] = keep;
                    // The float steps are what the model saw, not exactly ±h.
                    numeric[i] = (plus - minus) / ((double) up - down);
                }
                p.value().backend().upload(p.value(), w);
                Close.assertClose(p.name() + " gradient", numeric, analytic, 2e-4, 1e-3);
                assertTrue(Arrays.stream(numeric).anyMatch(g -> Math.abs(g) > 1e-3), p.name() + " has a gradient to check");
            }
        }
    }

    private static double lossAt(Workspace ws, Loss loss, Parameter p, float[] w, Tensor x, Tensor target, Pass pass) {
        p.value().backend().upload(p.value(), w);
        loss.evaluate(ws.forward(x, pass), target);
        return loss.value();
    }
}
