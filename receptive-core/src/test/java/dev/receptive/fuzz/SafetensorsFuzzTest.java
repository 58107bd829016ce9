package dev.receptive.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.receptive.io.Safetensors;
import dev.receptive.io.TensorData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/** Safetensors.read on any bytes: the tensors the file holds, or an IOException naming the file. */
class SafetensorsFuzzTest {
    /** Tensors are copied out of the file once: a few times the input, plus the header parse. */
    private static final Contract CONTRACT = new Contract(8 << 20, 16, IOException.class);

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void read(byte[] input) throws Exception {
        Path file = Contract.file("in.safetensors", input);
        Safetensors.Loaded loaded = CONTRACT.naming(file)
                .check(input.length, () -> Safetensors.read(file));
        if (loaded != null) {
            long bytes = 0;
            for (TensorData t : loaded.tensors().values()) {
                bytes += 4L * t.data().length; // TensorData checked the shape against the values
            }
            if (bytes > input.length) {
                throw new AssertionError(bytes + " bytes of tensors from a file of " + input.length);
            }
        }
    }
}
