package dev.receptive.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.data.Normalization;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import dev.receptive.testing.TestBackends;
import dev.receptive.zoo.Zoo;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code receptive serve} as a user runs it: in a JVM of its own, spoken to over HTTP, stopped by SIGTERM. */
class ServeCommandTest {
    @TempDir
    Path dir;

    @Test
    void serveAnswersOverHttpAndDrainsOnSigterm() throws Exception {
        Path file = dir.resolve("digits.safetensors");
        try (Backend cpu = TestBackends.cpu(1); Model m = Zoo.build("seednet", cpu, 3)) {
            m.setInfo(new ModelInfo(Normalization.MNIST, List.of()));
            ModelFile.save(file, m);
        }
        Process p = ChildJvm.start(dir, List.of("-Xmx512m"), Map.of(), "serve", file.toString(), "--port", "0",
                "--host", "127.0.0.1", "--backend", "cpu");
        p.getOutputStream().close();
        p.getErrorStream().close();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            int port = -1;
            Pattern ready = Pattern.compile("ready on http://127\\.0\\.0\\.1:(\\d+)");
            StringBuilder seen = new StringBuilder();
            while (port < 0 && (line = out.readLine()) != null) {
                seen.append(line).append('\n');
                Matcher matcher = ready.matcher(line);
                if (matcher.find()) {
                    port = Integer.parseInt(matcher.group(1));
                }
            }
            assertTrue(port > 0, "no ready line in:\n" + seen);
            assertTrue(seen.toString().contains("digits from " + file + ": input (1, 28, 28), output (10,)"), seen.toString());
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/v2/health/ready")).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            byte[] image = Files.readAllBytes(Path.of("test-data/image-kinds/png/grey8.png"));
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/predictions/digits")).timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(image)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, answer.statusCode(), answer.body());
            assertTrue(answer.body().contains("\"class_name\""), answer.body());
            p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
            StringBuilder rest = new StringBuilder();
            while ((line = out.readLine()) != null) {
                rest.append(line).append('\n');
            }
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertTrue(rest.toString().contains("receptive serve: stopped"), rest.toString());
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aMissingModelFileIsBadUsage() {
        CliRun run = CliRun.of("serve", dir.resolve("none.safetensors").toString());
        assertEquals(Main.USAGE, run.code(), run.toString());
        assertTrue(run.err().contains("does not exist"), run.toString());
    }
}
