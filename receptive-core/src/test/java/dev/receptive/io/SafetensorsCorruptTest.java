package dev.receptive.io;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hand-built files with one thing wrong each: the reader names the file and the problem. */
class SafetensorsCorruptTest {
    @TempDir
    Path dir;

    private static final String OK_B = "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}";

    /** A file with this header (length field computed from it) and n zero data bytes. */
    private Path file(String header, int dataBytes) throws IOException {
        return file(header.getBytes(StandardCharsets.UTF_8), dataBytes);
    }

    private Path file(byte[] header, int dataBytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 8; i++) {
            out.write((int) ((long) header.length >>> (8 * i)) & 0xFF);
        }
        out.writeBytes(header);
        out.writeBytes(new byte[dataBytes]);
        return Files.write(dir.resolve("corrupt.safetensors"), out.toByteArray());
    }

    private static void assertFails(Path f, String... parts) {
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(f));
        String m = e.getMessage();
        assertTrue(m.startsWith(f + ": "), "message should name the file: " + m);
        for (String p : parts) {
            assertTrue(m.contains(p), "message should contain '" + p + "': " + m);
        }
    }

    private static String a(String offsets) {
        return "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":" + offsets + "}";
    }

    @Test
    void theHandBuiltBaseIsValid() throws IOException {
        // So that each case below fails for its one change and not for the scaffolding.
        Safetensors.read(file("{" + a("[0,8]") + "," + OK_B + "}", 16));
    }

    @Test
    void headerLengthLargerThanFile() throws IOException {
        Path f = dir.resolve("long-header.safetensors");
        Files.write(f, new byte[] {100, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        assertFails(f, "header length 100", "larger than the 2 bytes");
        // Top bit set: an unsigned 64-bit length no file can hold.
        Files.write(f, new byte[] {0, 0, 0, 0, 0, 0, 0, (byte) 0x80, '{', '}'});
        assertFails(f, "header length 9223372036854775808");
        Files.write(f, new byte[] {2, 0, 0});
        assertFails(f, "3 bytes", "too few");
    }

    @Test
    void invalidJson() throws IOException {
        assertFails(file("{\"a\":{\"dtype\":\"F32\",", 0), "not valid JSON");
        assertFails(file("{'a':{}}", 0), "not valid JSON");
        assertFails(file("[]", 0), "not valid JSON");
        assertFails(file("{} {}", 0), "not valid JSON");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":\"0,8\"}}", 8), "not valid JSON");
        assertFails(file(new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'}, 0), "not valid UTF-8");
    }

    @Test
    void unsupportedDtype() throws IOException {
        assertFails(file("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4),
                "tensor 'a'", "dtype F16", "only F32");
    }

    @Test
    void shapeDisagreesWithOffsets() throws IOException {
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
                "tensor 'a'", "[3]", "needs 12 bytes", "span 8");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8), "negative");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 8), "not valid JSON");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8), "not a number");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8), "3 data_offsets");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8), "end before begin");
    }

    @Test
    void offsetsOverlapLeaveGapsOrRunPastTheData() throws IOException {
        assertFails(file("{" + a("[0,8]") + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
                "overlap", "'a'", "'b'");
        assertFails(file("{" + a("[0,8]") + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
                "overlap");
        assertFails(file("{" + a("[4,12]") + "}", 12), "gap", "'a' begins at 4");
        assertFails(file("{" + a("[0,8]") + "," + OK_B + "}", 12), "truncated", "16 data bytes", "holds 12");
        assertFails(file("{" + a("[0,8]") + "," + OK_B + "}", 20), "4 unexpected bytes");
    }

    @Test
    void malformedEntries() throws IOException {
        assertFails(file("{" + a("[0,8]") + "," + a("[8,16]") + "}", 16), "'a' twice");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8), "'a' lacks data_offsets");
        assertFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8), "unknown field 'x'");
        assertFails(file("{\"a\":[1,2]}", 0), "not valid JSON");
    }

    @Test
    void metadataValuesMustBeStrings() throws IOException {
        assertFails(file("{\"__metadata__\":{\"epoch\":3}," + a("[0,8]") + "}", 8), "metadata", "'epoch'", "not a string");
    }
}
