package dev.receptive.testing;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Files as Receptive wrote them before checksums: a copy of a safetensors file whose
 * "receptive.crc32c" metadata entry is removed by hand (the header re-padded, the data as it
 * was). Written byte by byte here, not through the reader under test.
 */
public final class OldFiles {
    private OldFiles() {
    }

    /** {@return a sibling "old-NAME" of {@code file} without its checksum entry} */
    public static Path withoutChecksums(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int n = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String json = new String(bytes, 8, n, StandardCharsets.UTF_8).stripTrailing();
        JsonObject meta = JsonParser.parseString(json).getAsJsonObject().getAsJsonObject("__metadata__");
        if (meta == null || !meta.has("receptive.crc32c")) {
            throw new IllegalArgumentException(file + " has no checksums to remove");
        }
        // Remove the entry from the text itself, so everything else keeps its bytes and order.
        String entry = "\"receptive.crc32c\":" + new GsonBuilder().disableHtmlEscaping().create()
                .toJson(meta.get("receptive.crc32c"));
        String stripped = json.replace("{\"__metadata__\":{" + entry + "},", "{").replace("," + entry, "");
        if (stripped.equals(json)) {
            throw new IllegalStateException(file + ": could not find the checksum entry in the header text");
        }
        byte[] head = stripped.getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(head, (head.length + 7) / 8 * 8);
        Arrays.fill(padded, head.length, padded.length, (byte) ' ');
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded.length).array());
        out.writeBytes(padded);
        out.write(bytes, 8 + n, bytes.length - 8 - n);
        return Files.write(file.resolveSibling("old-" + file.getFileName()), out.toByteArray());
    }
}
