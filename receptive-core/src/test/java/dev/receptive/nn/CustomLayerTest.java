package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.io.ModelFile;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Run;
import dev.receptive.testing.TestBackends;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A user's own layer type is saved and loaded once registered, and refused at save time before. */
class CustomLayerTest {
    private final Backend backend = TestBackends.cpu(1);

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    /** y = alpha·x, a layer written as a user would, with one setting. */
    static final class Scale extends Layer {
        private final double alpha;

        Scale(double alpha) {
            this.alpha = alpha;
        }

        @Override
        protected Shape inferOutputShape(Shape in) {
            return in;
        }

        @Override
        protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
            backend().scale(y, x, (float) alpha);
        }

        @Override
        protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
            if (dx != null) {
                backend().scale(dx, dy, (float) alpha);
            }
        }

        @Override
        protected void writeConfig(LayerConfig config) {
            config.put("alpha", alpha);
        }
    }

    /** The same layer with its settings declared once, as a record: what the built-in layers do. */
    static final class Shift extends Layer {
        /** The settings; every kind of component the record codec writes. */
        public record Settings(double by, int times, boolean enabled, String label, HeightWidth pad, Mode mode) {
            /** Checks the one range a test reads back. */
            public Settings {
                if (times < 1) {
                    throw new IllegalArgumentException("times must be >= 1, got " + times);
                }
            }
        }

        /** An enum setting, written by name. */
        public enum Mode { ADD, SUBTRACT }

        private final Settings settings;

        Shift(Settings settings) {
            this.settings = settings;
        }

        @Override
        public Settings settings() {
            return settings;
        }

        @Override
        protected Shape inferOutputShape(Shape in) {
            return in;
        }

        @Override
        protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
            backend().scale(y, x, (float) (settings.times() * settings.by()));
        }

        @Override
        protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        }
    }

    @Test
    void aLayerWithRecordSettingsWritesEachComponentAndReadsItBack() throws IOException {
        Layers.register("Shift", Shift.Settings.class, Shift::new);
        Layers.register("Shift", Shift.Settings.class, Shift::new); // the same registration again is harmless
        Shift.Settings settings = new Shift.Settings(0.25, 3, true, "a \"b\"", new HeightWidth(2, 1), Shift.Mode.SUBTRACT);
        Path file = dir.resolve("shift.safetensors");
        try (Model model = Sequential.builder().input(4).add(new Shift(settings)).build(backend)) {
            assertTrue(model.architecture().contains("{\"type\":\"Shift\",\"by\":0.25,\"times\":3,\"enabled\":true,"
                    + "\"label\":\"a \\\"b\\\"\",\"pad\":[2,1],\"mode\":\"SUBTRACT\"}"), model.architecture());
            ModelFile.save(file, model);
            try (Model loaded = ModelFile.load(file, backend)) {
                assertEquals(settings, loaded.layers().get(0).settings());
            }
            String bad = model.architecture().replace("\"times\":3", "\"times\":0");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Model.fromArchitecture(bad, backend));
            assertEquals("architecture: layers[0] (Shift): times must be >= 1, got 0", e.getMessage());
            String unknownMode = model.architecture().replace("SUBTRACT", "MULTIPLY");
            e = assertThrows(IllegalArgumentException.class, () -> Model.fromArchitecture(unknownMode, backend));
            assertTrue(e.getMessage().contains("field 'mode' names no known value: 'MULTIPLY'"), e.getMessage());
        }
        IllegalArgumentException taken = assertThrows(IllegalArgumentException.class,
                () -> Layers.register("Shift", c -> new ReLU()));
        assertTrue(taken.getMessage().contains("already registered"), taken.getMessage());
    }

    /** Unregistered, with a name no other test registers. */
    static final class Unlisted extends Layer {
        @Override
        protected Shape inferOutputShape(Shape in) {
            return in;
        }

        @Override
        protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
            backend().copy(y, x);
        }

        @Override
        protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
        }
    }

    @Test
    void aRegisteredCustomLayerIsSavedAndLoaded() throws IOException {
        if (!Layers.isRegistered("Scale")) {
            Layers.register("Scale", c -> new Scale(c.getDouble("alpha")));
        }
        Path file = dir.resolve("custom.safetensors");
        try (Model model = Sequential.builder().input(4).add(Dense.builder().units(3).build()).add(new Scale(-2.5))
                .seed(3).build(backend);
                Tensor x = backend.upload(new float[] {1, 2, 3, 4}, Shape.of(1, 4))) {
            assertTrue(model.architecture().contains("{\"type\":\"Scale\",\"alpha\":-2.5}"), model.architecture());
            ModelFile.save(file, model);
            try (Model loaded = ModelFile.load(file, backend)) {
                assertEquals(Scale.class, loaded.layers().get(1).getClass());
                assertArrayEquals(Run.eval(model, x), Run.eval(loaded, x));
            }
        }
    }

    @Test
    void anUnregisteredLayerIsRefusedBeforeAFileIsWritten() {
        Path file = dir.resolve("unlisted.safetensors");
        try (Model model = Sequential.builder().input(4).add(new Unlisted()).build(backend)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ModelFile.save(file, model));
            assertTrue(e.getMessage().contains("layer 0 (Unlisted) is not a registered layer type")
                    && e.getMessage().contains("Layers.register(\"Unlisted\""), e.getMessage());
        }
        assertTrue(Files.notExists(file));
    }

    @Test
    void registrationsDoNotReplaceOneAnother() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Layers.register("Conv2d", c -> new ReLU()));
        assertTrue(e.getMessage().contains("already registered"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Layers.register("Add", c -> new ReLU()));
        if (!Layers.isRegistered("Mislabelled")) {
            Layers.register("Mislabelled", c -> new ReLU());
        }
        IllegalStateException wrong = assertThrows(IllegalStateException.class, () -> Model.fromArchitecture(
                "{\"input\":[2],\"seed\":0,\"layers\":[{\"type\":\"Mislabelled\"}]}", backend));
        assertTrue(wrong.getMessage().contains("made a layer of type 'ReLU'"), wrong.getMessage());
    }
}
