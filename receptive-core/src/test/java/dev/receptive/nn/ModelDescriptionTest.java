package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Normalization;
import dev.receptive.tensor.Shape;
import dev.receptive.testing.Allocation;
import dev.receptive.zoo.Zoo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A model without a backend: made, checked, measured, serialized and placed. */
class ModelDescriptionTest {
    private final Backend backend = Backends.create("cpu");

    @AfterEach
    void close() {
        backend.close();
    }

    private static void assertSameState(Map<String, HostTensor> a, Map<String, HostTensor> b) {
        assertEquals(List.copyOf(a.keySet()), List.copyOf(b.keySet()));
        for (String name : a.keySet()) {
            assertEquals(a.get(name).shape(), b.get(name).shape(), name);
            assertArrayEquals(a.get(name).data(), b.get(name).data(), name);
        }
    }

    @Test
    void describeThenPlaceGivesTheSameModel() {
        try (Model original = Zoo.build("resnet8", Shape.of(1, 28, 28), 10, backend, 3)) {
            original.setInfo(new ModelInfo(Normalization.FASHION_MNIST, FashionMnist.CLASS_NAMES));
            ModelDescription d = original.describe();
            assertTrue(d.hasState());
            assertEquals(original.inputShape(), d.inputShape());
            assertEquals(original.outputShape(), d.outputShape());
            assertEquals(original.summary(), d.summary());
            assertEquals(original.parameterCount(), d.parameterCount());
            try (Model copy = d.place(backend)) {
                assertEquals(original.architecture(), copy.architecture());
                assertEquals(original.info(), copy.info());
                assertSameState(original.stateDict(), copy.stateDict());
            }
        }
    }

    @Test
    void aDescriptionWithoutStateDrawsTheSeedsWeights() {
        try (Model built = Zoo.seedNet().seed(5).build(backend);
                Model placed = ModelDescription.of(built.architecture()).place(backend)) {
            assertFalse(ModelDescription.of(built.architecture()).hasState());
            assertSameState(built.stateDict(), placed.stateDict());
        }
    }

    @Test
    void placementBytesCountParametersTwiceAndBuffersOnce() {
        try (Model model = Zoo.build("resnet8", Shape.of(1, 28, 28), 10, backend, 1)) {
            long floats = 0;
            for (Parameter p : model.parameters()) {
                floats += 2L * p.shape().size();
            }
            for (Buffer b : model.buffers()) {
                floats += b.shape().size();
            }
            assertTrue(floats > 2 * model.parameterCount(), "resnet8 has buffers");
            assertEquals(4 * floats, model.describe().placementBytes());
            assertEquals(4L * model.parameterCount() + 4L * model.buffers().stream()
                    .mapToLong(b -> b.shape().size()).sum(), model.describe().stateBytes());
        }
    }

    /** The command line's info describes any model without allocating it, even one far beyond the heap. */
    @Test
    void aHugeModelIsDescribedWithoutAllocatingAndRefusedWhenPlaced() {
        // 1.6·10⁹ weights (6.4 GB, 12.8 with the gradient): each tensor under 2³¹ elements, the model far beyond the heap.
        String json = "{\"input\":[40000],\"seed\":0,\"layers\":[{\"type\":\"Dense\",\"units\":40000,"
                + "\"bias\":true,\"init\":\"xavier\"}]}";
        long before = Allocation.bytes();
        ModelDescription d = ModelDescription.of(json);
        assertTrue(Allocation.bytes() - before < 8 << 20, "describing allocates no weights");
        assertEquals(40_000L * 40_000 + 40_000, d.parameterCount());
        assertEquals(8L * d.parameterCount(), d.placementBytes());
        assertTrue(d.summary().contains("1,600,040,000"), d.summary());
        assertThrows(ModelTooLargeException.class, () -> d.place(backend));
    }

    @Test
    void stateThatDoesNotFitIsRefusedNamingTheTensor() {
        try (Model model = Zoo.seedNet().seed(1).build(backend)) {
            String arch = model.architecture();
            Map<String, HostTensor> state = new LinkedHashMap<>(model.stateDict());
            state.put("0.bias", new HostTensor(Shape.of(31), new float[31]));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ModelDescription.of(arch, state, ModelInfo.NONE));
            assertTrue(e.getMessage().contains("'0.bias'") && e.getMessage().contains("(32,)"), e.getMessage());
            state.remove("0.bias");
            e = assertThrows(IllegalArgumentException.class, () -> ModelDescription.of(arch, state, ModelInfo.NONE));
            assertTrue(e.getMessage().contains("'0.bias' is missing"), e.getMessage());
            IllegalArgumentException names = assertThrows(IllegalArgumentException.class,
                    () -> model.describe().withInfo(new ModelInfo(null, List.of("a", "b"))));
            assertTrue(names.getMessage().contains("2 class names"), names.getMessage());
        }
    }

    @Test
    void theStateIsInStateDictOrderWhateverOrderItCameIn() {
        try (Model model = Zoo.seedNet().seed(1).build(backend)) {
            List<String> order = List.copyOf(model.stateDict().keySet());
            Map<String, HostTensor> reversed = new LinkedHashMap<>();
            for (int i = order.size() - 1; i >= 0; i--) {
                reversed.put(order.get(i), model.stateDict().get(order.get(i)));
            }
            ModelDescription d = ModelDescription.of(model.architecture(), reversed, ModelInfo.NONE);
            assertEquals(order, List.copyOf(d.state().keySet()));
            assertEquals(order, d.stateNames());
        }
    }

    private static byte[] serialize(ModelDescription d) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(d);
        }
        return bytes.toByteArray();
    }

    private static ModelDescription deserialize(byte[] bytes) throws Exception {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
            return (ModelDescription) in.readObject();
        }
    }

    @Test
    void javaSerializationKeepsEverything() throws Exception {
        try (Model original = Zoo.seedNet().seed(11).build(backend)) {
            original.setInfo(new ModelInfo(Normalization.FASHION_MNIST, FashionMnist.CLASS_NAMES));
            ModelDescription back = deserialize(serialize(original.describe()));
            assertEquals(original.architecture(), back.architecture());
            assertEquals(original.info(), back.info());
            assertSameState(original.stateDict(), back.state());
            ModelDescription fresh = deserialize(serialize(ModelDescription.of(original.architecture())));
            assertFalse(fresh.hasState());
        }
    }

    /** A serialized description is checked again when read: a damaged stream is refused, not placed. */
    @Test
    void aTamperedStreamIsRefused() throws Exception {
        try (Model original = Zoo.seedNet().seed(11).build(backend)) {
            byte[] bytes = serialize(original.describe());
            // The last dense layer's 10 units become 11 (the same length): its weights no longer fit.
            String text = new String(bytes, StandardCharsets.ISO_8859_1);
            int at = text.lastIndexOf("\"units\":10");
            assertTrue(at > 0);
            bytes[at + "\"units\":1".length()] = '1';
            byte[] tampered = bytes;
            InvalidObjectException e = assertThrows(InvalidObjectException.class, () -> deserialize(tampered));
            assertTrue(e.getMessage().contains("'10.weight'"), e.getMessage());
        }
    }
}
