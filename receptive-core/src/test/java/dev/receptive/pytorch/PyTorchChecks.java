package dev.receptive.pytorch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.receptive.backend.Backend;
import dev.receptive.io.Safetensors;
import dev.receptive.io.TensorData;
import dev.receptive.nn.Model;
import dev.receptive.nn.Parameter;
import dev.receptive.nn.Pass;
import dev.receptive.nn.TestParameters;
import dev.receptive.nn.Workspace;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Receptive against what PyTorch wrote (scripts/pytorch/crosscheck.py): the cross-check models'
 * outputs and the optimizers' steps, for the committed fixtures and for a live run alike.
 */
final class PyTorchChecks {
    /**
     * Model outputs: both sides sum fp32 products in their own orders (PyTorch's oneDNN and
     * Receptive's tiles), so each output carries rounding errors of a few ulps of the partial sums
     * that built it, not of the output, which may cancel towards zero. Hence an absolute bound
     * relative to the outputs' size: 1e-5 of their largest magnitude (about 80 float ulps there),
     * plus 1e-5 relative. Measured with PyTorch 1.13: at most 1.2e-6 of the largest for the seed
     * network (3136-term sums in its dense layer), 2.8e-7 for resnet8, 7e-8 for the graph. A wrong
     * layout, padding, pooling rule or batch norm formula moves outputs by percent.
     */
    static final double OUTPUT_ATOL_FRACTION = 1e-5;
    static final double OUTPUT_RTOL = 1e-5;
    /**
     * Optimizer steps: PyTorch 1.13 runs each update as a few ATen kernels (add with alpha as a
     * fused multiply-add on vector CPUs; Adam's first moment as mul then add, its step as
     * addcdiv), Receptive as the unfused float operations of the current PyTorch; the two differ
     * by an ulp or so of the terms, which can be far larger than a w that an update brought near
     * zero. So again an absolute bound from the largest |w|: 1e-6 of it (about 8 ulps there;
     * measured after five steps: at most 1.3e-7 of it, SGD), plus 1e-6 relative. A wrong formula
     * (bias correction, eps placement, decay coupling, Nesterov) moves w by a part in 10³ of a
     * step or more, and the smallest step (Adam's lr 1e-3) is 400 times this bound.
     */
    static final double STEP_ATOL_FRACTION = 1e-6;
    static final double STEP_RTOL = 1e-6;

    private PyTorchChecks() {
    }

    /** Receptive's output for the inputs in PyTorch's file equals PyTorch's output there. */
    static void checkModel(String name, Path pytorchFile, Backend backend) throws IOException {
        Safetensors.Loaded file = Safetensors.read(pytorchFile);
        TensorData x = file.tensors().get("x");
        TensorData y = file.tensors().get("y");
        assertNotNull(x, pytorchFile + ": no tensor x");
        assertNotNull(y, pytorchFile + ": no tensor y");
        try (Model model = CrossCheckModels.build(name, backend);
                Tensor input = backend.upload(x.data(), Shape.of(x.shape()));
                Workspace ws = model.newWorkspace()) {
            assertArrayEquals(CrossCheckModels.input(name, model.inputShape()), x.data(),
                    pytorchFile + ": its inputs are not CrossCheckModels' (regenerate: test-data/pytorch/README.md)");
            float[] out = ws.forward(input, Pass.EVAL).toArray();
            Close.assertClose(name + " against PyTorch " + file.metadata().get("torch"), y.data(), out,
                    OUTPUT_ATOL_FRACTION * largest(y.data()), OUTPUT_RTOL);
        }
    }

    /** Each case of PyTorch's file, five steps from w0 with its gradients, gives PyTorch's parameter after each step. */
    static void checkOptimizers(Path pytorchFile, Backend backend) throws IOException {
        Safetensors.Loaded file = Safetensors.read(pytorchFile);
        JsonArray cases = JsonParser.parseString(file.metadata().get("cases")).getAsJsonArray();
        float[] w0 = file.tensors().get("w0").data();
        Shape shape = Shape.of(w0.length);
        for (JsonElement element : cases) {
            JsonObject c = element.getAsJsonObject();
            String name = c.get("name").getAsString();
            try (Optimizer opt = optimizer(c); Tensor w = backend.upload(w0, shape);
                    Tensor dw = backend.allocate(shape)) {
                Parameter p = TestParameters.of("w", w, dw);
                for (int k = 0; ; k++) {
                    TensorData grad = file.tensors().get("grad." + k);
                    if (grad == null) {
                        assertEquals(5, k, name + ": steps in the file");
                        break;
                    }
                    backend.upload(dw, grad.data());
                    opt.step(List.of(p));
                    float[] expected = file.tensors().get(name + ".w." + (k + 1)).data();
                    Close.assertClose(name + " against PyTorch " + file.metadata().get("torch") + ", step " + (k + 1),
                            expected, backend.download(w), STEP_ATOL_FRACTION * largest(expected), STEP_RTOL);
                }
            }
        }
    }

    /**
     * Two runs of crosscheck.py say the same: the same tensors, inputs and gradients bit for bit,
     * outputs and optimizer steps within the tolerances above (another PyTorch build or CPU may
     * sum in another order).
     */
    static void checkSameOutputs(Path committed, Path fresh) throws IOException {
        Safetensors.Loaded a = Safetensors.read(committed);
        Safetensors.Loaded b = Safetensors.read(fresh);
        assertEquals(a.tensors().keySet(), b.tensors().keySet(), committed + " and " + fresh + " hold other tensors");
        for (String name : a.tensors().keySet()) {
            float[] was = a.tensors().get(name).data();
            float[] now = b.tensors().get(name).data();
            String what = committed + " (stale? regenerate: test-data/pytorch/README.md): " + name;
            assertArrayEquals(a.tensors().get(name).shape(), b.tensors().get(name).shape(), what);
            if (name.equals("x") || name.equals("w0") || name.startsWith("grad.")) {
                assertArrayEquals(was, now, what);
            } else if (name.contains(".w.")) {
                Close.assertClose(what, was, now, STEP_ATOL_FRACTION * largest(was), STEP_RTOL);
            } else {
                Close.assertClose(what, was, now, OUTPUT_ATOL_FRACTION * largest(was), OUTPUT_RTOL);
            }
        }
        assertEquals(a.metadata().get("cases"), b.metadata().get("cases"), committed + ": other optimizer cases");
    }

    private static double largest(float[] values) {
        double largest = 0;
        for (float v : values) {
            largest = Math.max(largest, Math.abs(v));
        }
        return largest;
    }

    /** The optimizer a case of crosscheck.py's CASES describes. */
    private static Optimizer optimizer(JsonObject c) {
        double lr = c.get("lr").getAsDouble();
        double decay = c.has("weight_decay") ? c.get("weight_decay").getAsDouble() : 0;
        switch (c.get("optimizer").getAsString()) {
            case "sgd":
                return Optimizer.sgd(lr).momentum(c.has("momentum") ? c.get("momentum").getAsDouble() : 0)
                        .nesterov(c.has("nesterov") && c.get("nesterov").getAsBoolean()).weightDecay(decay).build();
            case "adam":
            case "adamw": {
                JsonArray betas = c.get("betas").getAsJsonArray();
                var builder = c.get("optimizer").getAsString().equals("adam")
                        ? Optimizer.adam(lr).weightDecay(decay) : Optimizer.adamW(lr, decay);
                return builder.betas(betas.get(0).getAsDouble(), betas.get(1).getAsDouble())
                        .eps(c.get("eps").getAsDouble()).build();
            }
            default:
                throw new IllegalArgumentException("unknown optimizer in case " + c);
        }
    }
}
