package dev.receptive.testing;

import dev.receptive.nn.Model;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Workspace;
import dev.receptive.tensor.Tensor;

/** One-off passes through a model in a workspace of their own. */
public final class Run {
    private Run() {
    }

    /** The model's output for x in evaluation, copied to the host. */
    public static float[] eval(Model model, Tensor x) {
        try (Workspace ws = model.newWorkspace()) {
            return ws.forward(x, Pass.EVAL).toArray();
        }
    }
}
