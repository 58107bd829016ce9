package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.nn.init.Init;
import dev.receptive.nn.loss.Loss;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Close;
import dev.receptive.testing.ModelGradients;
import dev.receptive.testing.Rand;
import dev.receptive.testing.TestBackends;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Whole-model backpropagation of two chains against finite differences ({@link ModelGradients}). */
class ModelGradientTest {
    private static final double H = ModelGradients.H;
    private final Backend backend = TestBackends.cpu(1);

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void convReluPoolDenseWithSoftmaxCrossEntropy() {
        try (Model model = Sequential.builder().input(1, 6, 6)
                .add(Conv2d.builder().filters(2).kernel(3).padding(1).build()).add(new ReLU())
                .add(new MaxPool2d(2)).add(new Flatten()).add(Dense.builder().units(3).build())
                .seed(11).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Tensor labels = backend.upload(new float[] {2, 0}, Shape.of(2))) {
            randomizeBiases(model, new Rand(5));
            // Draw inputs until no ReLU input and no max-pool runner-up lies within reach of a
            // perturbation, so every difference quotient sees one smooth piece (see clearOfKinks).
            Tensor x = null;
            for (long seed = 1; x == null; seed++) {
                Tensor candidate = backend.upload(new Rand(seed).uniform(72, -1, 1), Shape.of(2, 1, 6, 6));
                if (clearOfKinks(firstLayerOutput(model, candidate))) {
                    x = candidate;
                } else {
                    candidate.close();
                }
            }
            try (Tensor input = x) {
                ModelGradients.checkEveryParameter(model, loss, input, labels);
            }
        }
    }

    /** Smooth everywhere; the first conv's gradients depend on the second conv's dx. */
    @Test
    void convSigmoidConvAvgPoolTanhSoftmaxWithMeanSquaredError() {
        Rand rand = new Rand(3);
        try (Model model = Sequential.builder().input(2, 5, 5)
                .add(Conv2d.builder().filters(2).kernel(1).build()).add(new Sigmoid())
                .add(Conv2d.builder().filters(3).kernel(2).dilation(2).stride(1).padding(1).build())
                .add(new AvgPool2d(2, 1, 0)).add(new Flatten())
                .add(Dense.builder().units(5).build()).add(new Tanh())
                .add(Dense.builder().units(3).init(Init.xavier()).build()).add(new Softmax())
                .seed(12).build(backend);
                Loss loss = Loss.meanSquaredError();
                Tensor x = backend.upload(rand.uniform(100, -2, 2), Shape.of(2, 2, 5, 5));
                Tensor target = backend.upload(rand.uniform(6, 0, 1), Shape.of(2, 3))) {
            randomizeBiases(model, rand);
            ModelGradients.checkEveryParameter(model, loss, x, target);
        }
    }

    private void randomizeBiases(Model model, Rand rand) {
        for (Parameter p : model.parameters()) {
            if (p.name().endsWith("bias")) {
                backend.upload(p.value(), rand.uniform(p.shape().size(), -0.5, 0.5));
            }
        }
    }

    /**
     * A conv weight moves each pre-activation z by at most h·max|x| ≤ h (inputs lie in [−1, 1]),
     * a bias by h. So |z| > h keeps every ReLU on its side, and a max-pool winner ahead of its
     * runner-up by more than 2h stays the winner. z: (2, 2, 6, 6), pooled 2×2.
     */
    private static boolean clearOfKinks(float[] z) {
        for (float v : z) {
            if (Math.abs(v) <= 1.5 * H) {
                return false;
            }
        }
        for (int plane = 0; plane < 4; plane++) {
            for (int i = 0; i < 6; i += 2) {
                for (int j = 0; j < 6; j += 2) {
                    float[] w = new float[4];
                    for (int k = 0; k < 4; k++) {
                        w[k] = Math.max(0, z[plane * 36 + (i + k / 2) * 6 + j + k % 2]);
                    }
                    Arrays.sort(w);
                    if (w[3] > 0 && w[3] - w[2] <= 2.5 * H) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** The first layer's output alone: a model of that layer sharing its weights. */
    private float[] firstLayerOutput(Model model, Tensor x) {
        Conv2d conv = (Conv2d) model.layers().get(0);
        try (Model first = Sequential.builder().input(1, 6, 6).add(new Conv2d(conv.settings())).build(backend)) {
            first.loadStateDict(java.util.Map.of("0.weight", new HostTensor(model.parameters().get(0).shape(),
                    model.parameters().get(0).value().toArray()), "0.bias", new HostTensor(model.parameters().get(1)
                    .shape(), model.parameters().get(1).value().toArray())));
            return dev.receptive.testing.Run.eval(first, x);
        }
    }
}
