package com.example.consumer;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Split;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Model;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.train.Metrics;
import dev.receptive.train.Trainer;
import dev.receptive.zoo.Zoo;
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
        try (Backend backend = Backends.create("auto"); // CUDA when receptive-cuda is on the classpath and works
                Model model = Zoo.seedNet().seed(1).build(backend);
                Loss loss = Loss.softmaxCrossEntropy();
                Optimizer adam = Optimizer.adam(1e-3).build()) {
            Trainer trainer = Trainer.builder().model(model).loss(loss).optimizer(adam)
                    .epochs(1).batchSize(64).seed(1).validation(test).build();
            List<Metrics> history = trainer.fit(train); // also records the data's normalization and class names
            System.out.printf("trained on %s: %s%n", backend.description(), history.get(0).summary(1));
            ModelFile.save(file, model);
            trained = model.predict(image); // thread-safe: a server may call it from many threads
        }

        try (Backend backend = Backends.create("auto"); Model loaded = ModelFile.load(file, backend)) {
            float[] p = loaded.predict(image);
            int best = 0;
            for (int c = 1; c < p.length; c++) {
                best = p[c] > p[best] ? c : best;
            }
            List<String> names = loaded.info().classNames();
            System.out.printf("%s: predicted %s (p = %.3f), labelled %s%n", file, names.get(best), p[best],
                    names.get(test.label(0)));
            if (!Arrays.equals(p, trained)) {
                throw new IllegalStateException("the loaded model's probabilities " + Arrays.toString(p)
                        + " differ from the trained model's " + Arrays.toString(trained));
            }
        }
    }
}
