package dev.receptive.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.data.Dataset;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Layer;
import dev.receptive.nn.Layers;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelDescription;
import dev.receptive.nn.Pass;
import dev.receptive.nn.Scratch;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.Dense;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.TestBackends;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** Export, then import: the same model, computing the same bits. */
class OnnxRoundTripTest {
    private static final Backend CPU = TestBackends.cpu();

    @AfterAll
    static void close() {
        CPU.close();
    }

    @ParameterizedTest
    @FieldSource("dev.receptive.onnx.OnnxTestModels#NAMES")
    void exportThenImportGivesTheSameOutputsBitForBit(String name, @TempDir Path dir) throws Exception {
        Dataset test = OnnxTestModels.test();
        int item = test.itemShape().size();
        float[] images = new float[16 * item];
        for (int i = 0; i < 16; i++) {
            test.copyImage(i, images, i * item);
        }
        Path file = dir.resolve(name + ".onnx");
        try (Model model = OnnxTestModels.trained(name).place(CPU)) {
            OnnxFile.write(file, model);
            ModelFile.Contents back = OnnxFile.read(file);
            ModelDescription imported = back.model();
            try (Model again = imported.place(CPU)) {
                assertArrayEquals(model.predictor().outputs(images), again.predictor().outputs(images), name);
            }
            assertEquals(model.info(), imported.info(), "normalization and class names travel as metadata");
            Map<String, HostTensor> before = model.stateDict();
            // num_batches_tracked has no ONNX form: the import starts the count at 0.
            before.keySet().removeIf(k -> k.endsWith("num_batches_tracked"));
            for (Map.Entry<String, HostTensor> e : before.entrySet()) {
                HostTensor t = imported.state().get(e.getKey());
                assertEquals(e.getValue().shape(), t.shape(), e.getKey());
                assertArrayEquals(e.getValue().data(), t.data(), e.getKey());
            }
            if (!name.equals("graph")) {
                // Every setting survives: exporting the imported model writes the same file. (The graph's sum of
                // three becomes two Adds named after the export's intermediate value, so its file differs.)
                assertArrayEquals(Files.readAllBytes(file), OnnxFile.toBytes(imported), name);
            }
        }
    }

    /** A layer of its own registered type has no ONNX form: the export names it and writes nothing. */
    @Test
    void customLayersAreRefusedByName(@TempDir Path dir) {
        Layers.register("Doubling", config -> new Doubling());
        try (Model model = Sequential.builder().input(2, 3).add(new Doubling()).add(new Flatten())
                .add(Dense.builder().units(2).build()).build(CPU)) {
            Path file = dir.resolve("custom.onnx");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxFile.write(file, model));
            assertTrue(e.getMessage().contains("layer 0 (Doubling) has no ONNX form"), e.getMessage());
            assertTrue(Files.notExists(file));
        }
    }

    /** y = 2x, a layer Receptive does not know. */
    private static final class Doubling extends Layer {
        @Override
        protected Shape inferOutputShape(Shape in) {
            return in;
        }

        @Override
        protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
            backend().scale(y, x, 2f);
        }

        @Override
        protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
            if (dx != null) {
                backend().scale(dx, dy, 2f);
            }
        }
    }
}
