package dev.receptive.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.receptive.backend.Backend;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Buffer;
import dev.receptive.nn.Model;
import dev.receptive.nn.Parameter;
import dev.receptive.testing.TestBackends;
import dev.receptive.train.Checkpoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;

/**
 * Model files, checkpoints and architecture JSON, against today's API: a model (closed again), a
 * checkpoint, or the documented exception with a message. The seed corpus holds valid files
 * (with checksums, and from before them), a chain of 5,000 nodes, and the inputs fuzzing found;
 * see docs/reliability.md.
 */
class ModelFilesFuzzTest {
    private static final Backend CPU = TestBackends.cpu(1);
    /**
     * Bytes a graph may allocate per byte of its architecture JSON. Parsing it, planning the
     * nodes and writing the canonical architecture back cost about 130 bytes per byte, linear in
     * the number of nodes (measured from 1,000 to 5,000 chained nodes); while fuzzing, Jazzer's
     * hooks on string comparisons add several times that (a chain of 5,000 nodes, 248 KB, took
     * 148 MB and nearly 10 s), so the committed chain has 600 nodes (29 KB). 64, the bound of the
     * other readers, held only while every seed was a few hundred bytes.
     */
    private static final long PER_GRAPH_BYTE = 256;
    private static final Contract MODEL = new Contract(16 << 20, PER_GRAPH_BYTE, IOException.class,
            IllegalArgumentException.class);
    private static final Contract CHECKPOINT = new Contract(16 << 20, 64, IOException.class);
    private static final Contract ARCHITECTURE = new Contract(16 << 20, PER_GRAPH_BYTE, IllegalArgumentException.class);

    @AfterAll
    static void close() {
        CPU.close();
    }

    /** ModelFile.load: IOException for a file it cannot read, IllegalArgumentException for a model that does not fit. */
    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void modelFile(byte[] input) throws Exception {
        Path file = Contract.file("in-model.safetensors", input);
        Model model = MODEL.naming(file)
                .check(input.length, () -> ModelFile.load(file, CPU));
        if (model != null) {
            model.close();
        }
    }

    /** Checkpoint.read: IOException naming the file. */
    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void checkpoint(byte[] input) throws Exception {
        Path file = Contract.file("in-checkpoint.safetensors", input);
        CHECKPOINT.naming(file).check(input.length, () -> Checkpoint.read(file));
    }

    /**
     * Model.fromArchitecture: IllegalArgumentException with a message. A few bytes of JSON may
     * declare millions of parameters, which a valid architecture rightly allocates (found by
     * fuzzing: 115 bytes declaring a dense layer of 2.1 million weights took 25 MB), so the bound
     * allows what the built model declares: each parameter's value, its gradient and the host
     * array its initial values are drawn into, and each buffer twice.
     */
    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void architecture(byte[] input) throws Exception {
        String json = new String(input, StandardCharsets.UTF_8);
        Model model = ARCHITECTURE.check(input.length, () -> Model.fromArchitecture(json, CPU), ModelFilesFuzzTest::declared);
        if (model != null) {
            model.close();
        }
    }

    /** The bytes a built model declares: 3 floats per parameter element, 2 per buffer element. */
    private static long declared(Model model) {
        long bytes = 0;
        for (Parameter p : model.parameters()) {
            bytes += 3L * Float.BYTES * p.shape().size();
        }
        for (Buffer b : model.buffers()) {
            bytes += 2L * Float.BYTES * b.shape().size();
        }
        return bytes;
    }
}
