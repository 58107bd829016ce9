package dev.receptive.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.receptive.backend.Backend;
import dev.receptive.data.Normalization;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.optim.OptimizerState;
import dev.receptive.testing.Crc32c;
import dev.receptive.testing.OldFiles;
import dev.receptive.testing.TestBackends;
import dev.receptive.train.Checkpoint;
import dev.receptive.train.Metrics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The finding: one flipped bit in a model file or a checkpoint (an exponent, a sign, a
 * zeroed data section) was accepted by every reader. Each damage below is now refused, naming
 * the file and the tensor; files without checksums still load, with one notice.
 */
class ChecksumTest {
    private static final Backend CPU = TestBackends.cpu(1);

    @TempDir
    static Path dir;
    private static Path modelFile;
    private static Path checkpointFile;

    @BeforeAll
    static void files() throws IOException {
        modelFile = dir.resolve("model.safetensors");
        checkpointFile = dir.resolve("checkpoint.safetensors");
        try (Model m = Sequential.builder().input(1, 6, 6)
                .add(Conv2d.builder().filters(2).kernel(3).padding(1).build()).add(new ReLU())
                .add(new MaxPool2d(2)).add(new Flatten()).add(Dense.builder().units(3).build()).seed(5).build(CPU)) {
            m.setInfo(new ModelInfo(new Normalization(0.25, 0.5), List.of("a", "b", "c")));
            ModelFile.save(modelFile, m);
            Map<String, Map<String, HostTensor>> slots = new LinkedHashMap<>();
            m.stateDict().forEach((name, t) -> slots.put(name, Map.of("m", t, "v", t)));
            new Checkpoint(m.describe(), "Adam", new OptimizerState(4, slots), 1, 4, 1, 2, 8,
                    List.of(new Metrics(1, 2.3, 0.1, 2.2, 0.2, 1e-3, 0.5, 16, 0.01)), List.of(), Map.of("lr", "0.001"))
                    .write(checkpointFile);
        }
    }

    @AfterAll
    static void close() {
        CPU.close();
    }

    @Test
    void theIndependentCrc32cGivesTheKnownAnswers() {
        // RFC 3720 B.4: 32 bytes of zeros, of ones, ascending; and the usual check value.
        assertEquals(0x8A9136AAL, Crc32c.of(new byte[32]));
        byte[] ones = new byte[32];
        java.util.Arrays.fill(ones, (byte) 0xFF);
        assertEquals(0x62A8AB43L, Crc32c.of(ones));
        byte[] ascending = new byte[32];
        for (int i = 0; i < 32; i++) {
            ascending[i] = (byte) i;
        }
        assertEquals(0x46DD794EL, Crc32c.of(ascending));
        assertEquals(0xE3069283L, Crc32c.of("123456789".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void theRecordedSumsAreEachTensorsCrc32cOfItsBytes() throws IOException {
        JsonObject header = header(modelFile);
        JsonObject sums = JsonParser.parseString(header.getAsJsonObject("__metadata__").get(Safetensors.CHECKSUMS)
                .getAsString()).getAsJsonObject();
        byte[] bytes = Files.readAllBytes(modelFile);
        long dataStart = 8 + ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int tensors = 0;
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            long begin = e.getValue().getAsJsonObject().getAsJsonArray("data_offsets").get(0).getAsLong();
            long end = e.getValue().getAsJsonObject().getAsJsonArray("data_offsets").get(1).getAsLong();
            byte[] data = java.util.Arrays.copyOfRange(bytes, (int) (dataStart + begin), (int) (dataStart + end));
            assertEquals(Crc32c.hex(Crc32c.of(data)), sums.get(e.getKey()).getAsString(), e.getKey());
            tensors++;
        }
        assertEquals(tensors + 1, sums.size(), "one sum per tensor and one for the metadata");
        // PyTorch's safetensors reads metadata as string to string: every value must be a JSON string.
        for (Map.Entry<String, JsonElement> e : header.getAsJsonObject("__metadata__").entrySet()) {
            assertTrue(e.getValue().isJsonPrimitive() && e.getValue().getAsJsonPrimitive().isString(), e.getKey());
        }
    }

    @Test
    void aFlippedExponentOrSignBitOrAZeroedDataSectionIsRefusedNamingTheTensor() throws IOException {
        for (Path original : List.of(modelFile, checkpointFile)) {
            String prefix = original == checkpointFile ? "model/" : "";
            Map<String, long[]> offsets = dataOffsets(original);
            long[] weight = offsets.get(prefix + "0.weight");
            byte[] bytes = Files.readAllBytes(original);
            // Element 1 of 0.weight: byte 3 holds the sign (bit 7) and the exponent's top bits.
            for (int bit : new int[] {6, 7}) {
                byte[] damaged = bytes.clone();
                damaged[(int) (weight[0] + 4 + 3)] ^= (byte) (1 << bit);
                assertRefused(original, damaged, "tensor '" + prefix + "0.weight' does not match its checksum");
            }
            byte[] zeroed = bytes.clone();
            java.util.Arrays.fill(zeroed, (int) weight[0], bytes.length, (byte) 0);
            assertRefused(original, zeroed, "tensor '" + prefix + "0.weight' does not match its checksum");
            // The last tensor's last byte: the whole file is read before the model is built.
            byte[] last = bytes.clone();
            last[bytes.length - 1] ^= 1;
            String lastName = new ArrayList<>(offsets.keySet()).get(offsets.size() - 1);
            assertRefused(original, last, "tensor '" + lastName + "' does not match its checksum");
        }
    }

    @Test
    void aDamagedMetadataEntryIsRefused() throws IOException {
        byte[] bytes = Files.readAllBytes(modelFile);
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        // "0.25,0.5" becomes "0.24,0.5": a valid normalization that would feed every image wrongly.
        int at = text.indexOf("0.25,0.5");
        assertTrue(at > 0);
        bytes[at + 3] ^= 1;
        assertRefused(modelFile, bytes, "the metadata does not match its checksum");
    }

    @Test
    void everyReaderRefusesTheDamage() throws IOException {
        byte[] bytes = Files.readAllBytes(modelFile);
        bytes[(int) dataOffsets(modelFile).get("0.bias")[0] + 2] ^= 0x10;
        Path damaged = Files.write(dir.resolve("damaged-model.safetensors"), bytes);
        for (ThrowingCall call : List.<ThrowingCall>of(() -> Safetensors.read(damaged), () -> Safetensors.verify(damaged),
                () -> ModelFile.read(damaged), () -> ModelFile.read(damaged, true), () -> ModelFile.load(damaged, CPU))) {
            IOException e = assertThrows(IOException.class, call::run);
            assertEquals(damaged + ": tensor '0.bias' does not match its checksum", e.getMessage().substring(0,
                    e.getMessage().indexOf(" (CRC32C")));
        }
        assertTrue(Safetensors.verify(modelFile));
    }

    @Test
    void checksumsThatDoNotListExactlyTheTensorsAreRefused() throws IOException {
        String text = new String(Files.readAllBytes(modelFile), StandardCharsets.ISO_8859_1);
        // Renaming a tensor in the header (same length, so the layout holds): its sum is then missing.
        String renamed = text.replaceFirst("\"0\\.bias\":\\{", "\"0\\.bIas\":{");
        assertRefused(modelFile, renamed.getBytes(StandardCharsets.ISO_8859_1), "tensor '0.bIas' has no checksum");
    }

    @Test
    void filesWithoutChecksumsStillLoadWithOneNotice() throws IOException {
        Path old = OldFiles.withoutChecksums(modelFile);
        Path oldCheckpoint = OldFiles.withoutChecksums(checkpointFile);
        List<LogRecord> records = new ArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger model = Logger.getLogger(ModelFile.class.getName());
        Logger checkpoint = Logger.getLogger(Checkpoint.class.getName());
        model.addHandler(handler);
        checkpoint.addHandler(handler);
        try {
            assertFalse(Safetensors.read(old).checksummed());
            assertFalse(Safetensors.verify(old));
            ModelFile.Contents contents = ModelFile.read(old);
            assertEquals(ModelFile.read(modelFile).model().state().keySet(), contents.model().state().keySet());
            assertArrayEquals(ModelFile.read(modelFile).model().state().get("0.weight").data(),
                    contents.model().state().get("0.weight").data());
            assertEquals(1, records.size(), records.toString());
            String line = new java.util.logging.SimpleFormatter().formatMessage(records.get(0));
            assertTrue(line.startsWith(old + ": the model file has no checksums") && !line.contains("\n"), line);
            assertEquals(1, Checkpoint.read(oldCheckpoint).epoch());
            assertEquals(2, records.size(), records.toString());
            assertTrue(new java.util.logging.SimpleFormatter().formatMessage(records.get(1))
                    .startsWith(oldCheckpoint + ": the checkpoint has no checksums"));
        } finally {
            model.removeHandler(handler);
            checkpoint.removeHandler(handler);
        }
    }

    @FunctionalInterface
    private interface ThrowingCall {
        void run() throws IOException;
    }

    private static void assertRefused(Path original, byte[] damaged, String expected) throws IOException {
        Path f = Files.write(dir.resolve("damaged-" + original.getFileName()), damaged);
        IOException e = assertThrows(IOException.class,
                () -> {
                    if (original.equals(checkpointFile)) {
                        Checkpoint.read(f);
                    } else {
                        ModelFile.read(f);
                    }
                }, expected);
        assertTrue(e.getMessage().startsWith(f + ": " + expected), e.getMessage());
    }

    private static JsonObject header(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int n = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return JsonParser.parseString(new String(bytes, 8, n, StandardCharsets.UTF_8)).getAsJsonObject();
    }

    /** Each tensor's [begin, end) in the file (not the data section), in header order. */
    private static Map<String, long[]> dataOffsets(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        long start = 8 + ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Map<String, long[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : header(file).entrySet()) {
            if (!e.getKey().equals("__metadata__")) {
                var o = e.getValue().getAsJsonObject().getAsJsonArray("data_offsets");
                out.put(e.getKey(), new long[] {start + o.get(0).getAsLong(), start + o.get(1).getAsLong()});
            }
        }
        return out;
    }
}
