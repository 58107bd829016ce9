package dev.receptive.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.receptive.backend.Backend;
import dev.receptive.data.Dataset;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.testing.Close;
import dev.receptive.testing.TestBackends;
import java.nio.FloatBuffer;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * ONNX Runtime, an independent implementation of every op, runs each exported model on 256 test
 * images and must compute what Receptive computes: the zoo's networks (resnet8/14/20 with
 * trained batch norm statistics) and a graph of every other layer and merge (concat among them).
 */
class OnnxRuntimeTest {
    static final int IMAGES = 256;
    private static final Backend CPU = TestBackends.cpu();

    @AfterAll
    static void close() {
        CPU.close();
    }

    /**
     * The two sides sum each dot product in another order (ONNX Runtime's MLAS kernels with FMA,
     * and its graph optimizations that fold batch norm into the convolutions before it; Receptive's
     * own kernels), each a few fp32 roundings of logits of size ≈ 5: 2e-5 absolute and 1e-5
     * relative allow some 30 of them, and a wrong op or weight layout is off by far more.
     */
    @ParameterizedTest
    @FieldSource("dev.receptive.onnx.OnnxTestModels#NAMES")
    void onnxRuntimeComputesWhatReceptiveComputes(String name) throws Exception {
        Dataset test = OnnxTestModels.test();
        int item = test.itemShape().size();
        float[] images = new float[IMAGES * item];
        for (int i = 0; i < IMAGES; i++) {
            test.copyImage(i, images, i * item);
        }
        float[] expected;
        byte[] onnx;
        ModelDescription trained = OnnxTestModels.trained(name);
        try (Model model = trained.place(CPU)) {
            expected = model.predictor().outputs(images);
        }
        onnx = OnnxFile.toBytes(trained);
        float[] actual = run(onnx, images, test.itemShape().dims());
        Close.assertClose(name + ": ONNX Runtime's outputs against Receptive's", expected, actual, 2e-5, 1e-5);
        int classes = expected.length / IMAGES;
        int agree = 0;
        for (int i = 0; i < IMAGES; i++) {
            agree += argmax(expected, i * classes, classes) == argmax(actual, i * classes, classes) ? 1 : 0;
        }
        assertEquals(IMAGES, agree, name + ": images whose predicted class ONNX Runtime and Receptive agree on");
        assertTrue(maxAbs(expected) > 0.5, name + ": the outputs are not all near zero");
    }

    /** ONNX Runtime's outputs for a batch of NCHW images. */
    static float[] run(byte[] onnx, float[] images, int[] item) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] shape = new long[item.length + 1];
        shape[0] = images.length / java.util.Arrays.stream(item).reduce(1, (a, b) -> a * b);
        for (int i = 0; i < item.length; i++) {
            shape[i + 1] = item[i];
        }
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(2);
            try (OrtSession session = env.createSession(onnx, options);
                    OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(images), shape);
                    OrtSession.Result result = session.run(Map.of(session.getInputNames().iterator().next(), x))) {
                return ((OnnxTensor) result.get(0)).getFloatBuffer().array();
            }
        }
    }

    static int argmax(float[] v, int from, int n) {
        int best = from;
        for (int i = from + 1; i < from + n; i++) {
            best = v[i] > v[best] ? i : best;
        }
        return best - from;
    }

    static double maxAbs(float[] v) {
        double m = 0;
        for (float f : v) {
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }
}
