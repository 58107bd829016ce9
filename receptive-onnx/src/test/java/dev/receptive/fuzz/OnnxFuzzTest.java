package dev.receptive.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.HostTensor;
import dev.receptive.onnx.OnnxFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * OnnxFile.read on any bytes: a checked model description whose weights the file holds, or an
 * IOException naming the file. The seed corpus (OnnxFuzzSeeds) holds valid exports of every layer
 * and PyTorch's own files.
 */
class OnnxFuzzTest {
    /**
     * The protobuf message is parsed once (its fields, a few times the input) and each weight
     * copied out of it once, transposed at most once more.
     */
    private static final Contract CONTRACT = new Contract(16 << 20, 64, IOException.class);

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void read(byte[] input) throws Exception {
        Path file = Contract.file("in.onnx", input);
        ModelFile.Contents contents = CONTRACT.naming(file).check(input.length, () -> OnnxFile.read(file));
        if (contents != null) {
            long bytes = 0;
            for (HostTensor t : contents.model().state().values()) {
                bytes += 4L * t.data().length;
            }
            // Batch norm's num_batches_tracked is the import's own (one float per batch norm); every other
            // weight comes from the file, which holds its four bytes.
            long counters = contents.model().state().keySet().stream().filter(k -> k.endsWith("num_batches_tracked"))
                    .count();
            if (bytes - 4 * counters > input.length) {
                throw new AssertionError(bytes + " bytes of weights from a file of " + input.length);
            }
        }
    }
}
