package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Normalization;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a broadcast carries: after Java serialization (Spark's default) the same model comes back. */
class ModelImageTest {

    @Test
    void aSerializedImageBuildsTheSameModel() throws Exception {
        try (Backend cpu = Backends.create("cpu"); Model original = TinyNet.build(cpu, 11)) {
            original.setInfo(new ModelInfo(Normalization.FASHION_MNIST, FashionMnist.CLASS_NAMES));
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(ModelImage.of(original));
            }
            ModelImage image;
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
                image = (ModelImage) in.readObject();
            }
            assertEquals(4L * original.parameterCount(), image.valueBytes());
            try (Model copy = image.build(cpu)) {
                assertEquals(original.architecture(), copy.architecture());
                assertEquals(original.info(), copy.info());
                Map<String, HostTensor> a = original.stateDict();
                Map<String, HostTensor> b = copy.stateDict();
                assertEquals(a.keySet(), b.keySet());
                for (String name : a.keySet()) {
                    assertEquals(a.get(name).shape(), b.get(name).shape());
                    assertArrayEquals(a.get(name).data(), b.get(name).data(), name);
                }
            }
        }
    }
}
