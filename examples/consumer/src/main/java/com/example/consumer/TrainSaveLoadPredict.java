package com.example.consumer;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Split;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Dropout;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.Pass;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.init.Init;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.train.Metrics;
import dev.receptive.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A program that uses Receptive as a library: it trains the seed network on Fashion-MNIST
 * images for one epoch, saves the model, loads it back and classifies one test image.
 *
 * <p>Arguments: the folder holding the fixtures fashion-mnist-2k-train/ and fashion-mnist-1k/
 * (default ../../test-data, Receptive's test-data/ from here), and the folder for the model file
 * (default target).
 */
public final class TrainSaveLoadPredict {
    public static void main(String[] args) throws IOException {
        Path data = Path.of(args.length > 0 ? args[0] : "../../test-data");
        Path file = Path.of(args.length > 1 ? args[1] : "target").resolve("model.safetensors");
        Dataset train = FashionMnist.load(data.resolve("fashion-mnist-2k-train"), Split.TRAIN);
        Dataset test = FashionMnist.load(data.resolve("fashion-mnist-1k"), Split.TEST);
        float[] image = new float[test.itemShape().size()];
        test.copyImage(0, image, 0); // already normalized, as the model was trained

        float[] trained;
        Init glorot = Init.xavier();
        try (Backend backend = Backends.create("auto"); // CUDA when receptive-cuda is on the classpath and works
                Sequential model = Sequential.builder().input(1, 28, 28)
                        .add(Conv2d.builder().filters(32).kernel(5).padding(2).init(glorot).build()).add(new ReLU())
                        .add(new MaxPool2d(2))
                        .add(Conv2d.builder().filters(64).kernel(5).padding(2).init(glorot).build()).add(new ReLU())
                        .add(new MaxPool2d(2))
                        .add(new Flatten())
                        .add(Dense.builder().units(1024).init(glorot).build()).add(new ReLU())
                        .add(new Dropout(0.5))
                        .add(Dense.builder().units(10).init(glorot).build())
                        .seed(1).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build()) {
            Trainer trainer = Trainer.builder().model(model).loss(loss).optimizer(adam)
                    .epochs(1).batchSize(64).seed(1).validation(test).build();
            List<Metrics> history = trainer.fit(train);
            System.out.printf("trained on %s: %s%n", backend.description(), history.get(0).summary(1));
            ModelFile.save(file, model);
            trained = probabilities(model, image);
        }

        try (Backend backend = Backends.create("auto"); Sequential loaded = ModelFile.load(file, backend)) {
            float[] p = probabilities(loaded, image);
            int best = 0;
            for (int c = 1; c < p.length; c++) {
                best = p[c] > p[best] ? c : best;
            }
            List<String> names = test.classNames();
            System.out.printf("%s: predicted %s (p = %.3f), labelled %s%n", file, names.get(best), p[best],
                    names.get(test.label(0)));
            if (!Arrays.equals(p, trained)) {
                throw new IllegalStateException("the loaded model's probabilities " + Arrays.toString(p)
                        + " differ from the trained model's " + Arrays.toString(trained));
            }
        }
    }

    /** Class probabilities of one image: softmax of the model's logits, in evaluation mode (no dropout). */
    static float[] probabilities(Sequential model, float[] image) {
        Backend backend = model.backend();
        try (Tensor x = backend.upload(image, Shape.of(1, 1, 28, 28)); // (N, C, H, W)
                Tensor p = backend.allocate(Shape.of(1, 10))) {
            backend.softmaxForward(p, model.forward(x, Pass.EVAL));
            return p.toArray();
        }
    }
}
