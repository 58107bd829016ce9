package dev.receptive.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The committed onnx.proto is ONNX v1.17.0's own, but for the two lines that name the Java package. */
class ProtoSchemaTest {
    @Test
    void schemaIsOnnxsOwnFile() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("receptive-onnx", "src", "main", "proto", "onnx.proto"));
        String official = lines.stream()
                .filter(l -> !l.startsWith("// Receptive: ") && !l.equals("option java_package = \"dev.receptive.onnx.proto\";"))
                .map(l -> l + "\n").collect(Collectors.joining());
        assertEquals(lines.size() - 2, official.lines().count(), "exactly the two added lines are left out");
        byte[] sha = MessageDigest.getInstance("SHA-256").digest(official.getBytes(StandardCharsets.UTF_8));
        assertEquals("2881fcc940635b6a34b7c95e5089b2faa89c3d6e382c1da1706e88c7f32452bc", HexFormat.of().formatHex(sha));
    }
}
