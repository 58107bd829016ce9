package dev.receptive.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.testing.Crc32c;
import dev.receptive.testing.OldFiles;
import dev.receptive.testing.Rand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    private static LinkedHashMap<String, TensorData> tensors(Object... nameThenTensor) {
        LinkedHashMap<String, TensorData> m = new LinkedHashMap<>();
        for (int i = 0; i < nameThenTensor.length; i += 2) {
            m.put((String) nameThenTensor[i], (TensorData) nameThenTensor[i + 1]);
        }
        return m;
    }

    private static void littleEndian(ByteArrayOutputStream out, long v, int bytes) {
        for (int i = 0; i < bytes; i++) {
            out.write((int) (v >>> (8 * i)) & 0xFF);
        }
    }

    @Test
    void writesExactlyTheSpecifiedBytes() throws IOException {
        Path f = dir.resolve("small.safetensors");
        Safetensors.write(f, tensors(
                "w", new TensorData(new int[] {2, 1}, new float[] {1.5f, -2f}),
                "b", new TensorData(new int[] {1}, new float[] {0.25f})), Map.of("format", "pt"));

        // Insertion order kept (w before b), metadata first, compact JSON, key order as the
        // reference writer: dtype, shape, data_offsets. The checksums, computed here with the
        // bitwise CRC32C of the test tree: the metadata's over its length-prefixed entries, each
        // tensor's over its little-endian bytes.
        String sums = "{\\\"__metadata__\\\":\\\"" + Crc32c.hex(Crc32c.of(0, 0, 0, 6, 'f', 'o', 'r', 'm', 'a', 't', 0, 0, 0, 2,
                'p', 't')) + "\\\",\\\"w\\\":\\\"" + Crc32c.hex(Crc32c.of(0, 0, 0xC0, 0x3F, 0, 0, 0, 0xC0)) + "\\\",\\\"b\\\":\\\""
                + Crc32c.hex(Crc32c.of(0, 0, 0x80, 0x3E)) + "\\\"}";
        String json = "{\"__metadata__\":{\"format\":\"pt\",\"receptive.crc32c\":\"" + sums + "\"},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        assertEquals(232, json.length());
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        littleEndian(expected, 232, 8); // already a multiple of 8: no padding
        expected.writeBytes(json.getBytes(StandardCharsets.US_ASCII));
        littleEndian(expected, 0x3FC00000, 4); // 1.5f
        littleEndian(expected, 0xC0000000L, 4); // -2f
        littleEndian(expected, 0x3E800000, 4); // 0.25f
        assertEquals(8 + 232 + 12, expected.size());
        assertArrayEquals(expected.toByteArray(), Files.readAllBytes(f));
    }

    @Test
    void matchesTheReferenceWriterByteForByteBesideTheChecksums() throws IOException {
        // test-data/safetensors/reference-small.safetensors was written by the reference
        // implementation (safetensors 0.8.0, see test-data/README.md). It orders tensors by name;
        // given that order, our writer must produce the same bytes once the checksum entry,
        // which the reference writer knows nothing of, is taken out of the header.
        Path reference = Path.of("test-data", "safetensors", "reference-small.safetensors");
        Path f = dir.resolve("ours.safetensors");
        Safetensors.write(f, tensors(
                "a.s", new TensorData(new int[0], new float[] {3f}),
                "b", new TensorData(new int[] {1}, new float[] {0.25f}),
                "w", new TensorData(new int[] {2, 1}, new float[] {1.5f, -2f})), Map.of("format", "pt"));
        assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(OldFiles.withoutChecksums(f)));
        assertTrue(Safetensors.read(f).checksummed());

        Safetensors.Loaded loaded = Safetensors.read(reference);
        assertEquals(List.of("a.s", "b", "w"), new ArrayList<>(loaded.tensors().keySet()));
        assertArrayEquals(new int[] {2, 1}, loaded.tensors().get("w").shape());
        assertArrayEquals(new float[] {1.5f, -2f}, loaded.tensors().get("w").data());
        assertArrayEquals(new int[0], loaded.tensors().get("a.s").shape());
        assertEquals(Map.of("format", "pt"), loaded.metadata());
        assertTrue(!loaded.checksummed(), "the reference writer adds no checksums");
    }

    @Test
    void roundTripKeepsOrderValuesAndMetadata() throws IOException {
        Rand rand = new Rand(11);
        LinkedHashMap<String, TensorData> in = tensors(
                "conv1.weight", new TensorData(new int[] {4, 1, 3, 3}, rand.uniform(36, -1, 1)),
                "conv1.bias", new TensorData(new int[] {4}, rand.uniform(4, -1, 1)),
                "empty", new TensorData(new int[] {0, 5}, new float[0]),
                "scalar", new TensorData(new int[0], new float[] {-0f}),
                "special ünïcode \"name\" <&>", new TensorData(new int[] {4},
                        new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.MIN_VALUE, Float.intBitsToFloat(0x7FC00001)}),
                "a.first.by.name", new TensorData(new int[] {1, 2}, rand.uniform(2, -1, 1)));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("architecture", "{\"layers\":[\"conv\"]}");
        meta.put("epoch", "3");
        Path f = dir.resolve("model.safetensors");
        Safetensors.write(f, in, meta);
        assertEquals(0, (Files.size(f) - 8 - 4 * (36 + 4 + 1 + 4 + 2)) % 8, "header padded to a multiple of 8");

        Safetensors.Loaded out = Safetensors.read(f);
        assertEquals(new ArrayList<>(in.keySet()), new ArrayList<>(out.tensors().keySet()));
        for (String name : in.keySet()) {
            assertArrayEquals(in.get(name).shape(), out.tensors().get(name).shape(), name);
            assertArrayEquals(bits(in.get(name).data()), bits(out.tensors().get(name).data()), name);
        }
        assertEquals(meta, out.metadata());
    }

    @Test
    void withoutMetadataOnlyTheChecksumsAreThere() throws IOException {
        Path f = dir.resolve("plain.safetensors");
        Safetensors.write(f, tensors("x", new TensorData(new int[] {1}, new float[] {1f})), Map.of());
        byte[] bytes = Files.readAllBytes(f);
        String header = new String(bytes, 8, bytes.length - 8 - 4, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"receptive.crc32c\":"), header);
        assertEquals(Map.of(), Safetensors.read(f).metadata());
    }

    @Test
    void everyTruncationFailsNamingTheFile() throws IOException {
        Path f = dir.resolve("whole.safetensors");
        Safetensors.write(f, tensors(
                "a", new TensorData(new int[] {3, 2}, new Rand(3).uniform(6, -1, 1)),
                "b", new TensorData(new int[] {5}, new Rand(4).uniform(5, -1, 1))), Map.of("k", "v"));
        byte[] whole = Files.readAllBytes(f);
        Path cut = dir.resolve("cut.safetensors");
        for (int n = 0; n < whole.length; n++) {
            Files.write(cut, Arrays.copyOf(whole, n));
            IOException e = assertThrows(IOException.class, () -> Safetensors.read(cut), "cut to " + n + " bytes");
            assertTrue(e.getMessage().startsWith(cut + ": "), e.getMessage());
        }
        // Cut inside the data: the message says so.
        Files.write(cut, Arrays.copyOf(whole, whole.length - 4));
        String m = assertThrows(IOException.class, () -> Safetensors.read(cut)).getMessage();
        assertTrue(m.contains("truncated") && m.contains("44") && m.contains("40"), m);
        // And a byte too many is not silently ignored either.
        Files.write(cut, Arrays.copyOf(whole, whole.length + 1));
        m = assertThrows(IOException.class, () -> Safetensors.read(cut)).getMessage();
        assertTrue(m.contains("1 unexpected bytes after the last tensor"), m);
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    @Test
    void writeRefusesTheChecksumKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Safetensors.write(
                dir.resolve("x"), tensors("w", new TensorData(new int[] {1}, new float[1])),
                Map.of(Safetensors.CHECKSUMS, "{}")));
        assertTrue(e.getMessage().contains("reserved"), e.getMessage());
    }

    @Test
    void writeRefusesTheMetadataName() {
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(dir.resolve("x"),
                tensors("__metadata__", new TensorData(new int[] {1}, new float[1])), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new TensorData(new int[] {2, 2}, new float[3]));
    }
}
