package dev.receptive.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.receptive.backend.Backend;
import dev.receptive.tensor.Shape;
import dev.receptive.testing.Close;
import dev.receptive.testing.TestBackends;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StateDictTest {
    private final Backend backend = TestBackends.cpu(1);

    @AfterEach
    void close() {
        backend.close();
    }

    private Model small() {
        return Sequential.builder().input(2, 4, 4)
                .add(Conv2d.builder().filters(3).kernel(3).build()).add(new ReLU())
                .add(new Flatten()).add(Dense.builder().units(2).build())
                .seed(8).build(backend);
    }

    @Test
    void stateDictHoldsEveryParameterInOrder() {
        try (Model model = small()) {
            LinkedHashMap<String, HostTensor> state = model.stateDict();
            assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias"), List.copyOf(state.keySet()));
            for (Parameter p : model.parameters()) {
                assertEquals(p.shape(), state.get(p.name()).shape());
                Close.assertClose(p.name(), p.value().toArray(), state.get(p.name()).data(), 0, 0);
            }
        }
    }

    /** Uploads 1, 2, 3, ... into every parameter as the state to load. */
    private static LinkedHashMap<String, HostTensor> counting(Model model) {
        LinkedHashMap<String, HostTensor> state = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            float[] data = new float[p.shape().size()];
            for (int i = 0; i < data.length; i++) {
                data[i] = i + 1;
            }
            state.put(p.name(), new HostTensor(p.shape(), data));
        }
        return state;
    }

    @Test
    void loadReplacesEveryValue() {
        try (Model model = small()) {
            Map<String, HostTensor> state = counting(model);
            model.loadStateDict(state);
            for (Parameter p : model.parameters()) {
                Close.assertClose(p.name(), state.get(p.name()).data(), p.value().toArray(), 0, 0);
            }
        }
    }

    private static void rejectedWithoutChange(Model model, Map<String, HostTensor> state, String message) {
        Map<String, HostTensor> before = model.stateDict();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.loadStateDict(state));
        assertEquals(message, e.getMessage());
        for (Parameter p : model.parameters()) {
            Close.assertClose(p.name() + " unchanged", before.get(p.name()).data(), p.value().toArray(), 0, 0);
        }
    }

    @Test
    void aWrongShapeThrowsAndChangesNothing() {
        try (Model model = small()) {
            LinkedHashMap<String, HostTensor> state = counting(model);
            state.put("3.weight", new HostTensor(Shape.of(2, 18), new float[36])); // 3·2·2 = 12 inputs, not 18
            rejectedWithoutChange(model, state, "loadStateDict: tensor '3.weight' has shape (2, 18) but the model expects (2, 12)");
        }
    }

    @Test
    void aMissingOrUnexpectedEntryThrowsAndChangesNothing() {
        try (Model model = small()) {
            LinkedHashMap<String, HostTensor> missing = counting(model);
            missing.remove("3.bias");
            rejectedWithoutChange(model, missing, "loadStateDict: tensor '3.bias' is missing (expected shape (2,))");

            LinkedHashMap<String, HostTensor> extra = counting(model);
            extra.put("4.weight", new HostTensor(Shape.of(1), new float[1]));
            rejectedWithoutChange(model, extra, "loadStateDict: unexpected tensor '4.weight' (the model's state: "
                    + "[0.weight, 0.bias, 3.weight, 3.bias])");
        }
    }

    @Test
    void hostTensorChecksItsLength() {
        assertThrows(IllegalArgumentException.class, () -> new HostTensor(Shape.of(2, 3), new float[5]));
    }
}
