package dev.receptive.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.receptive.backend.Backend;
import dev.receptive.data.ImageInput;
import dev.receptive.data.Normalization;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.Layer;
import dev.receptive.nn.Layers;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.Pass;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Scratch;
import dev.receptive.nn.Sequential;
import dev.receptive.tensor.Shape;
import dev.receptive.tensor.Tensor;
import dev.receptive.testing.Rand;
import dev.receptive.testing.TestBackends;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve} started on a free loopback port and spoken to over real HTTP: every endpoint,
 * answers equal to the library's, limits answered 400/405/413/429, a model file replaced while
 * requests run, and a shutdown that answers the requests in flight.
 */
class ModelServerTest {
    private static final List<String> CLASSES = List.of("zero", "one", "two", "three", "four");
    private static final Normalization NORM = new Normalization(0.25, 0.5);
    private final Backend backend = TestBackends.cpu(2);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    @TempDir
    Path dir;

    @AfterEach
    void close() {
        backend.close();
    }

    /** Holds every evaluation pass for a while, so requests overlap. */
    static final class Slow extends Layer {
        /** How long each pass waits. */
        public record Settings(int millis) {
        }

        private final Settings settings;

        Slow(Settings settings) {
            this.settings = settings;
        }

        @Override
        public Settings settings() {
            return settings;
        }

        @Override
        public String type() {
            return "ServeTestSlow";
        }

        @Override
        protected Shape inferOutputShape(Shape in) {
            return in;
        }

        @Override
        protected void forwardInternal(Tensor y, Tensor x, Pass pass, Scratch scratch) {
            backend().copy(y, x);
            try {
                Thread.sleep(settings.millis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        protected void backwardInternal(Tensor dx, Tensor dy, Tensor x, Tensor y, Pass pass, Scratch scratch) {
            throw new UnsupportedOperationException();
        }
    }

    /** A small conv net on 1×8×8 images with 5 named classes, saved as {@code name}.safetensors. */
    private Path modelFile(String name, long seed, int slowMillis) throws IOException {
        Layers.register("ServeTestSlow", Slow.Settings.class, Slow::new);
        Sequential.Builder b = Sequential.builder().input(1, 8, 8)
                .add(Conv2d.builder().filters(4).kernel(3).padding(1).build()).add(new ReLU()).add(new MaxPool2d(2))
                .add(new Flatten()).add(Dense.builder().units(5).build());
        if (slowMillis > 0) {
            b.add(new Slow(new Slow.Settings(slowMillis)));
        }
        try (Model m = b.seed(seed).build(backend)) {
            m.setInfo(new ModelInfo(NORM, CLASSES));
            Path file = dir.resolve(name + ".safetensors.tmp");
            ModelFile.save(file, m);
            return file;
        }
    }

    /** Saves a model and moves it into place under its final name, as a deployment replaces a file. */
    private Path install(String name, long seed, int slowMillis) throws IOException {
        Path tmp = modelFile(name, seed, slowMillis);
        return Files.move(tmp, dir.resolve(name + ".safetensors"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private ModelServer start(ServeSettings settings, Path... files) throws IOException {
        ModelServer server = new ModelServer(List.of(files), backend, settings, "127.0.0.1", 0);
        server.start();
        return server;
    }

    private HttpResponse<String> get(ModelServer s, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(s, path)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(ModelServer s, String path, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(s, path)).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(ModelServer s, String path) {
        return URI.create("http://127.0.0.1:" + s.port() + path);
    }

    /** A v2 infer body of these items, flat or nested. */
    private static byte[] inferBody(float[][] items, boolean nested) {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < items.length; i++) {
            data.append(i == 0 ? "" : ",").append(nested ? "[[" : "");
            for (int k = 0; k < items[i].length; k++) {
                data.append(k == 0 ? "" : nested && k % 8 == 0 ? "],[" : ",").append(items[i][k]);
            }
            data.append(nested ? "]]" : "");
        }
        return String.format(Locale.ROOT, "{\"id\":\"r1\",\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\","
                + "\"shape\":[%d,1,8,8],\"data\":[%s]}]}", items.length, data).getBytes();
    }

    private static float[] floats(JsonArray a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = Float.parseFloat(a.get(i).getAsString());
        }
        return f;
    }

    private static JsonObject json(HttpResponse<String> r) {
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    @Test
    void everyEndpointAnswersOverHttpWithTheLibrarysAnswers() throws Exception {
        Path digits = install("digits", 1, 0);
        Path other = install("other", 2, 0);
        try (ModelServer server = start(ServeSettings.DEFAULTS.withLimits(256, 64 << 10), digits, other);
                Model local = ModelFile.load(digits, backend)) {
            assertEquals(List.of("digits", "other"), server.modelNames());
            assertEquals(200, get(server, "/v2/health/live").statusCode());
            assertEquals(200, get(server, "/v2/health/ready").statusCode());
            assertEquals(200, get(server, "/v2/models/digits/ready").statusCode());
            assertEquals("receptive", json(get(server, "/v2")).get("name").getAsString());
            JsonObject meta = json(get(server, "/v2/models/digits"));
            assertEquals("[-1,1,8,8]", meta.getAsJsonArray("inputs").get(0).getAsJsonObject().get("shape").toString());
            assertEquals("[-1,5]", meta.getAsJsonArray("outputs").get(0).getAsJsonObject().get("shape").toString());
            HttpResponse<String> missing = get(server, "/v2/models/nothing");
            assertEquals(404, missing.statusCode());
            assertTrue(json(missing).get("error").getAsString().contains("[digits, other]"), missing.body());

            // Three items, flat and nested: the bits of the library's probabilities.
            Rand rand = new Rand(3);
            float[][] items = {rand.uniform(64, -2, 2), rand.uniform(64, -2, 2), rand.uniform(64, -2, 2)};
            float[][] expected = local.predictor().probabilities(items);
            for (boolean nested : new boolean[] {false, true}) {
                HttpResponse<String> r = post(server, "/v2/models/digits/infer", inferBody(items, nested));
                assertEquals(200, r.statusCode(), r.body());
                JsonObject out = json(r).getAsJsonArray("outputs").get(0).getAsJsonObject();
                assertEquals("[3,5]", out.get("shape").toString());
                float[] data = floats(out.getAsJsonArray("data"));
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(expected[i], java.util.Arrays.copyOfRange(data, i * 5, i * 5 + 5), "item " + i);
                }
                assertEquals("r1", json(r).get("id").getAsString());
            }

            // An image file: decoded, normalized and classified as the library does it.
            BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 16; x++) {
                    img.getRaster().setSample(x, y, 0, (x * 16 + y * 3) & 255);
                }
            }
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(img, "png", png);
            float[] pixels = ImageInput.builder().shape(1, 8, 8).normalize(NORM).build()
                    .load(png.toByteArray(), "test").values();
            float[] p = local.predict(pixels);
            HttpResponse<String> image = post(server, "/predictions/digits", png.toByteArray());
            assertEquals(200, image.statusCode(), image.body());
            JsonObject answer = json(image);
            assertArrayEquals(p, floats(answer.getAsJsonArray("probabilities")));
            int best = answer.get("class").getAsInt();
            for (float q : p) {
                assertTrue(q <= p[best]);
            }
            assertEquals(CLASSES.get(best), answer.get("class_name").getAsString());
            assertEquals(400, post(server, "/predictions/digits", "not an image".getBytes()).statusCode());

            // Bad requests are answered, never run.
            assertEquals(400, post(server, "/v2/models/digits/infer", ("{\"inputs\":[{\"datatype\":\"FP32\","
                    + "\"shape\":[1,1,8,7],\"data\":[]}]}").getBytes()).statusCode());
            assertEquals(400, post(server, "/v2/models/digits/infer", ("{\"inputs\":[{\"datatype\":\"INT8\","
                    + "\"shape\":[1,1,8,8],\"data\":[]}]}").getBytes()).statusCode());
            HttpResponse<String> nan = post(server, "/v2/models/digits/infer",
                    new String(inferBody(new float[][] {new float[64]}, false)).replaceFirst("\\[0\\.0", "[NaN")
                            .getBytes());
            assertEquals(400, nan.statusCode(), nan.body());
            assertEquals(400, post(server, "/v2/models/digits/infer", "{".getBytes()).statusCode());
            assertEquals(405, get(server, "/v2/models/digits/infer").statusCode());
            HttpResponse<String> tooLarge = post(server, "/v2/models/digits/infer", new byte[100 << 10]);
            assertEquals(413, tooLarge.statusCode(), tooLarge.body());
            assertEquals(404, get(server, "/nothing").statusCode());

            String metrics = get(server, "/metrics").body();
            for (String expectedLine : new String[] {
                "receptive_requests_total{code=\"200\",endpoint=\"infer\",model=\"digits\"} 2",
                "receptive_request_duration_seconds_bucket{endpoint=\"infer\",model=\"digits\",le=\"+Inf\"}",
                "receptive_batch_size_count{model=\"digits\"}", "receptive_queue_depth{model=\"digits\"} 0",
                "receptive_model_memory_bytes{model=\"digits\",part=\"weights\"}",
                "receptive_model_memory_bytes{model=\"digits\",part=\"workspaces\"}"}) {
                assertTrue(metrics.contains(expectedLine), expectedLine + " in\n" + metrics);
            }
        }
    }

    @Test
    void aFullQueueIsAnswered429WithRetryAfterAndEveryOtherRequestSucceeds() throws Exception {
        Path slow = install("slow", 1, 40);
        ServeSettings settings = ServeSettings.DEFAULTS.withBatch(1, Duration.ZERO).withLimits(2, 1 << 20);
        try (ModelServer server = start(settings, slow)) {
            byte[] body = inferBody(new float[][] {new float[64]}, false);
            ExecutorService clients = Executors.newFixedThreadPool(8);
            try {
                List<Future<HttpResponse<String>>> answers = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    answers.add(clients.submit(() -> post(server, "/v2/models/slow/infer", body)));
                }
                int ok = 0;
                int full = 0;
                for (Future<HttpResponse<String>> f : answers) {
                    HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
                    if (r.statusCode() == 429) {
                        full++;
                        assertEquals("1", r.headers().firstValue("Retry-After").orElse(""));
                        assertTrue(r.body().contains("queue is full"), r.body());
                    } else {
                        assertEquals(200, r.statusCode(), r.body());
                        ok++;
                    }
                }
                // One pass runs for 40 ms with two more waiting: eight at once cannot all fit.
                assertTrue(full >= 1 && ok >= 3, ok + " answered, " + full + " refused");
            } finally {
                clients.shutdownNow();
            }
            // Larger than the queue can ever hold: a bad request, not a busy server.
            assertEquals(400, post(server, "/v2/models/slow/infer",
                    inferBody(new float[][] {new float[64], new float[64], new float[64]}, false)).statusCode());
        }
    }

    @Test
    void replacingAModelFileServesTheNewVersionWithoutFailingARequest() throws Exception {
        Path file = install("digits", 1, 0);
        ServeSettings settings = ServeSettings.DEFAULTS.withTimes(Duration.ofMillis(50), Duration.ofSeconds(10));
        Rand rand = new Rand(5);
        float[][] item = {rand.uniform(64, -1, 1)};
        float[] before;
        try (Model m = ModelFile.load(file, backend)) {
            before = m.predict(item[0]);
        }
        try (ModelServer server = start(settings, file)) {
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            ExecutorService clients = Executors.newFixedThreadPool(4);
            List<Future<Integer>> counts = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                counts.add(clients.submit(() -> {
                    int n = 0;
                    while (!stop.get()) {
                        HttpResponse<String> r = post(server, "/v2/models/digits/infer", inferBody(item, false));
                        if (r.statusCode() != 200) {
                            failures.add(r.statusCode() + " " + r.body());
                        }
                        n++;
                    }
                    return n;
                }));
            }
            Thread.sleep(200);
            Path replaced = install("digits", 99, 0);
            float[] after;
            try (Model m = ModelFile.load(replaced, backend)) {
                after = m.predict(item[0]);
            }
            assertFalse(java.util.Arrays.equals(before, after), "another seed, other answers");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!json(get(server, "/v2/models/digits")).get("versions").toString().equals("[\"2\"]")) {
                assertTrue(System.nanoTime() < deadline, "the replaced file was not loaded");
                Thread.sleep(20);
            }
            Thread.sleep(200);
            stop.set(true);
            int total = 0;
            for (Future<Integer> c : counts) {
                total += c.get(60, TimeUnit.SECONDS);
            }
            clients.shutdown();
            assertTrue(failures.isEmpty(), failures.size() + " of " + total + " requests failed: " + failures.peek());
            HttpResponse<String> r = post(server, "/v2/models/digits/infer", inferBody(item, false));
            assertArrayEquals(after, floats(json(r).getAsJsonArray("outputs").get(0).getAsJsonObject()
                    .getAsJsonArray("data")));
            assertTrue(get(server, "/metrics").body().contains("receptive_model_reloads_total{model=\"digits\"} 1"));

            // A broken file in its place keeps version 2 served.
            Files.write(dir.resolve("broken.tmp"), "not a model".getBytes());
            Files.move(dir.resolve("broken.tmp"), file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Thread.sleep(300);
            assertEquals(200, post(server, "/v2/models/digits/infer", inferBody(item, false)).statusCode());
            assertEquals("[\"2\"]", json(get(server, "/v2/models/digits")).get("versions").toString());
        }
    }

    @Test
    void shutdownAnswersTheRequestsInFlightAndThenRefusesConnections() throws Exception {
        Path slow = install("slow", 1, 100);
        ModelServer server = start(ServeSettings.DEFAULTS.withBatch(1, Duration.ZERO), slow);
        int port = server.port();
        byte[] body = inferBody(new float[][] {new float[64]}, false);
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            List<Future<HttpResponse<String>>> inFlight = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                inFlight.add(clients.submit(() -> post(server, "/v2/models/slow/infer", body)));
            }
            Thread.sleep(150); // all four sent; the batcher runs them one by one, 100 ms each
            server.close();
            assertFalse(server.ready());
            for (Future<HttpResponse<String>> f : inFlight) {
                HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
            }
        } finally {
            clients.shutdownNow();
        }
        Exception refused = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                () -> http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/health/live"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()));
        assertTrue(refused instanceof IOException, "" + refused);
    }

    @Test
    void twoFilesOfOneNameAreRefused() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new ModelServer(List.of(Path.of("a/m.safetensors"), Path.of("b/m.safetensors")), backend,
                        ServeSettings.DEFAULTS, "127.0.0.1", 0));
        assertTrue(e.getMessage().contains("both be served as 'm'"), e.getMessage());
        assertEquals("model", ModelServer.modelName(Path.of("/x/model.safetensors")));
    }
}
