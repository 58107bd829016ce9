package dev.receptive.serve;

import dev.receptive.backend.Backend;
import dev.receptive.backend.BackendCapabilities;
import dev.receptive.backend.BackendOptions;
import dev.receptive.backend.Backends;
import dev.receptive.data.Normalization;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.BatchingPredictor;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.Predictor;
import dev.receptive.zoo.Zoo;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The serving load test: single images from many threads through the batching predictor against
 * the same threads calling {@code predict} themselves (the batcher and the server with their
 * default settings: batches of up to 32 items, 2 ms delay); over HTTP, {@link ModelServer} with
 * batching on against off; an overload past the queue limit; and the predictor's workspace
 * memory under requests of 1..64 items. Every answer is compared with a single-threaded
 * {@code predict} of the same image (the same bits on the CPU; elsewhere the same class and
 * probabilities within 1e-4). A and B alternate round by round; medians are printed.
 *
 * <pre>
 * java -cp receptive.jar dev.receptive.serve.LoadTest [--backend cpu|cuda] [--model FILE] [--rounds 3]
 *     [--requests 2000] [--threads 16,64] [--clients 64] [--memory-requests 100000] [--memory-budget-mb MB]
 *     [--parts inprocess,http,memory]
 * </pre>
 *
 * <p>It talks to its own servers on the loopback address only, and every loop is bounded by a
 * request count and by {@code --max-seconds} per round (default 120).
 */
public final class LoadTest {
    private final Backend backend;
    private final Path modelFile;
    private final int rounds;
    private final int requests;
    private final long maxNanos;
    private final boolean exact;
    /** The input's shape after N in a v2 request, such as "1,28,28". */
    private final String itemDims;
    private final List<float[]> images = new ArrayList<>();
    private final List<float[]> expected = new ArrayList<>();

    private LoadTest(Backend backend, Path modelFile, int rounds, int requests, long maxSeconds) throws IOException {
        this.backend = backend;
        this.modelFile = modelFile;
        this.rounds = rounds;
        this.requests = requests;
        this.maxNanos = TimeUnit.SECONDS.toNanos(maxSeconds);
        this.exact = backend.capabilities().memory() == BackendCapabilities.Memory.JAVA_HEAP;
        try (Model model = ModelFile.load(modelFile, backend)) {
            this.itemDims = model.inputShape().toString().replaceAll("[() ]", "").replaceAll(",$", "");
            SplittableRandom random = new SplittableRandom(42);
            int item = model.inputShape().size();
            for (int i = 0; i < 512; i++) {
                float[] x = new float[item];
                for (int k = 0; k < item; k++) {
                    x[k] = (float) random.nextDouble(-0.5, 2.8); // about the range of MNIST-normalized pixels
                }
                images.add(x);
                expected.add(model.predict(x));
            }
        }
    }

    /**
     * Runs the parts named by {@code --parts} and prints their figures.
     *
     * @param args options, see the class comment
     * @throws Exception when a part cannot run
     */
    public static void main(String[] args) throws Exception {
        String backendName = option(args, "--backend", "cpu");
        String parts = option(args, "--parts", "inprocess,http,memory");
        int rounds = Integer.parseInt(option(args, "--rounds", "3"));
        int requests = Integer.parseInt(option(args, "--requests", "2000"));
        int clients = Integer.parseInt(option(args, "--clients", "64"));
        int memoryRequests = Integer.parseInt(option(args, "--memory-requests", "100000"));
        long memoryBudget = (long) (Double.parseDouble(option(args, "--memory-budget-mb", "-1")) * (1 << 20));
        long maxSeconds = Long.parseLong(option(args, "--max-seconds", "120"));
        int[] threads = Arrays.stream(option(args, "--threads", "16,64").split(",")).mapToInt(Integer::parseInt).toArray();
        String model = option(args, "--model", null);
        try (Backend backend = Backends.create(backendName, BackendOptions.defaults(), line -> { })) {
            Path dir = Files.createTempDirectory("receptive-loadtest");
            Path file = model != null ? Path.of(model) : dir.resolve("seednet.safetensors");
            if (model == null) {
                try (Model m = Zoo.build("seednet", backend, 1)) {
                    m.setInfo(new ModelInfo(Normalization.MNIST, List.of()));
                    ModelFile.save(file, m);
                }
            }
            System.out.printf(Locale.ROOT, "load test: %s on %s (%s), %d cores, load average %.2f, model %s%n",
                    backend.name(), System.getProperty("os.arch"), cpuModel(), Runtime.getRuntime().availableProcessors(),
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), file.getFileName());
            LoadTest test = new LoadTest(backend, file, rounds, requests, maxSeconds);
            if (parts.contains("inprocess")) {
                for (int t : threads) {
                    test.inProcess(t);
                }
            }
            if (parts.contains("http")) {
                test.http(clients);
                test.overload(clients * 2);
            }
            if (parts.contains("memory")) {
                test.memory(memoryRequests, memoryBudget);
            }
            Files.deleteIfExists(dir.resolve("seednet.safetensors"));
            Files.deleteIfExists(dir);
        }
    }

    private static String option(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    /** Whether an answer is right: the same bits on the CPU; elsewhere the same class and each probability within 1e-4. */
    private boolean right(int image, float[] p) {
        float[] e = expected.get(image);
        if (exact) {
            return Arrays.equals(e, p);
        }
        if (p.length != e.length || argmax(p) != argmax(e)) {
            return false;
        }
        for (int c = 0; c < p.length; c++) {
            if (Math.abs(p[c] - e[c]) > 1e-4) {
                return false;
            }
        }
        return true;
    }

    private static int argmax(float[] p) {
        int best = 0;
        for (int c = 1; c < p.length; c++) {
            best = p[c] > p[best] ? c : best;
        }
        return best;
    }

    /** One request: sends image i and returns its probabilities, or throws. */
    private interface Call {
        float[] run(int image) throws Exception;
    }

    /** What a round measured. */
    private record Round(double perSecond, double p50Ms, double p99Ms, int wrong, int errors) {
    }

    /** {@code threads} threads share {@link #requests} calls; each call's latency and answer are checked. */
    private Round round(int threads, Call call) throws Exception {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger wrong = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        long[] latency = new long[requests];
        long deadline = System.nanoTime() + maxNanos;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long start = System.nanoTime();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit((Callable<Void>) () -> {
                    int i;
                    while ((i = next.getAndIncrement()) < requests && System.nanoTime() < deadline) {
                        int image = i % images.size();
                        long t0 = System.nanoTime();
                        try {
                            float[] p = call.run(image);
                            if (!right(image, p)) {
                                wrong.incrementAndGet();
                            }
                        } catch (Exception e) {
                            if (errors.incrementAndGet() == 1) {
                                System.out.println("  first error: " + e);
                            }
                        }
                        latency[i] = System.nanoTime() - t0;
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        long elapsed = System.nanoTime() - start;
        int ran = Math.min(next.get(), requests);
        long[] sorted = Arrays.copyOf(latency, ran);
        Arrays.sort(sorted);
        return new Round(ran / (elapsed / 1e9), sorted[ran / 2] / 1e6, sorted[Math.min(ran - 1, (int) (ran * 0.99))] / 1e6,
                wrong.get(), errors.get());
    }

    /** Alternates A and B for the rounds and prints the medians of both and their ratio. */
    private void compare(String what, int threads, Call a, String aName, Call b, String bName) throws Exception {
        round(threads, a); // warm-up of both, not counted
        round(threads, b);
        List<Round> as = new ArrayList<>();
        List<Round> bs = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            if (r % 2 == 0) {
                as.add(round(threads, a));
                bs.add(round(threads, b));
            } else {
                bs.add(round(threads, b));
                as.add(round(threads, a));
            }
        }
        Round ma = median(as);
        Round mb = median(bs);
        System.out.printf(Locale.ROOT, "%s, %d threads, %d requests a round, median of %d rounds:%n", what, threads,
                requests, rounds);
        print(aName, ma, as);
        print(bName, mb, bs);
        System.out.printf(Locale.ROOT, "  %s / %s: %.2fx images/s%n", aName, bName, ma.perSecond / mb.perSecond);
    }

    private static void print(String name, Round m, List<Round> all) {
        int wrong = all.stream().mapToInt(Round::wrong).sum();
        int errors = all.stream().mapToInt(Round::errors).sum();
        System.out.printf(Locale.ROOT, "  %-12s %8.0f images/s  p50 %7.2f ms  p99 %7.2f ms  wrong %d  errors %d  (rounds:%s)%n",
                name, m.perSecond, m.p50Ms, m.p99Ms, wrong, errors,
                all.stream().map(r -> String.format(Locale.ROOT, " %.0f", r.perSecond)).reduce("", String::concat));
    }

    private static Round median(List<Round> rounds) {
        List<Round> sorted = new ArrayList<>(rounds);
        sorted.sort(Comparator.comparingDouble(Round::perSecond));
        return sorted.get(sorted.size() / 2);
    }

    private void inProcess(int threads) throws Exception {
        LongAdder batches = new LongAdder();
        LongAdder items = new LongAdder();
        try (Model model = ModelFile.load(modelFile, backend);
                BatchingPredictor batcher = BatchingPredictor.builder(model)
                        .optQueueLimit(Math.max(1024, threads)).optOnBatch(n -> {
                            batches.increment();
                            items.add(n);
                        }).build()) {
            Predictor predictor = model.predictor();
            compare("in process", threads, i -> batcher.probabilities(images.get(i)), "batching",
                    i -> predictor.probabilities(images.get(i)), "predict");
        }
        System.out.printf(Locale.ROOT, "  batches averaged %.1f items%n", items.sum() / (double) batches.sum());
    }

    private void http(int clients) throws Exception {
        ServeSettings on = ServeSettings.DEFAULTS.withLimits(Math.max(256, clients), 16 << 20);
        try (ModelServer batching = new ModelServer(List.of(modelFile), backend, on, "127.0.0.1", 0);
                ModelServer direct = new ModelServer(List.of(modelFile), backend, on.withBatching(false), "127.0.0.1", 0)) {
            batching.start();
            direct.start();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .executor(Executors.newFixedThreadPool(4)).build();
            compare("over HTTP (v2 infer, one image a request)", clients, i -> infer(http, batching, i), "batching on",
                    i -> infer(http, direct, i), "batching off");
            String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + batching.port()
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            System.out.printf(Locale.ROOT, "  batches averaged %.1f items%n", metric(metrics, "receptive_batch_size_sum")
                    / metric(metrics, "receptive_batch_size_count"));
        }
    }

    /** The value of the first sample of that name in Prometheus text. */
    private static double metric(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Double.NaN;
    }

    /** More clients than the queue holds: every answer is 200, 429 or 503, and every 200 is right. */
    private void overload(int clients) throws Exception {
        int limit = Math.max(1, clients / 8);
        ServeSettings settings = ServeSettings.DEFAULTS.withBatch(8, Duration.ZERO).withLimits(limit, 16 << 20);
        try (ModelServer server = new ModelServer(List.of(modelFile), backend, settings, "127.0.0.1", 0)) {
            server.start();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            LongAdder ok = new LongAdder();
            LongAdder busy = new LongAdder();
            LongAdder other = new LongAdder();
            AtomicLong wrong = new AtomicLong();
            round(clients, i -> {
                HttpResponse<String> r = http.send(request(server, i), HttpResponse.BodyHandlers.ofString());
                switch (r.statusCode()) {
                    case 200 -> {
                        ok.increment();
                        if (!right(i, probabilities(r.body()))) {
                            wrong.incrementAndGet();
                        }
                    }
                    case 429, 503 -> busy.increment();
                    default -> other.increment();
                }
                return expected.get(i);
            });
            System.out.printf(Locale.ROOT, "overload: %d clients, queue limit %d items: %d answered (%d wrong), %d refused"
                    + " with 429/503, %d other answers%n", clients, limit, ok.sum(), wrong.get(), busy.sum(), other.sum());
        }
    }

    private HttpRequest request(ModelServer server, int image) {
        StringBuilder body = new StringBuilder(images.get(image).length * 12 + 100);
        body.append("{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,").append(itemDims)
                .append("],\"data\":[");
        float[] x = images.get(image);
        for (int k = 0; k < x.length; k++) {
            body.append(k == 0 ? "" : ",").append(x[k]);
        }
        body.append("]}]}");
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v2/models/"
                + ModelServer.modelName(modelFile) + "/infer")).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8)).build();
    }

    private float[] infer(HttpClient http, ModelServer server, int image) throws Exception {
        HttpResponse<String> r = http.send(request(server, image), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("HTTP " + r.statusCode() + ": " + r.body());
        }
        return probabilities(r.body());
    }

    /** The data array of a v2 answer: the numbers after "data":[ (Float.toString text, so the same floats). */
    private static float[] probabilities(String body) {
        int from = body.indexOf("\"data\":[") + 8;
        String[] numbers = body.substring(from, body.indexOf(']', from)).split(",");
        float[] p = new float[numbers.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Float.parseFloat(numbers[i]);
        }
        return p;
    }

    /**
     * Requests of 1..64 items from two threads: the workspaces stay under the budget (the
     * predictor's default, or {@code budgetBytes} when ≥ 0); heap after GC before and after.
     */
    private void memory(int count, long budgetBytes) throws Exception {
        long before = heapAfterGc();
        try (Model model = ModelFile.load(modelFile, backend)) {
            Predictor predictor = model.predictor();
            if (budgetBytes >= 0) {
                predictor.setMemoryBudget(budgetBytes);
            }
            long budget = predictor.memoryBudget();
            AtomicLong most = new AtomicLong();
            AtomicInteger next = new AtomicInteger();
            int item = model.inputShape().size();
            long deadline = System.nanoTime() + maxNanos * 10;
            long start = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    long seed = t;
                    done.add(pool.submit((Callable<Void>) () -> {
                        SplittableRandom random = new SplittableRandom(seed);
                        while (next.getAndIncrement() < count && System.nanoTime() < deadline) {
                            int n = random.nextInt(1, 65);
                            float[] x = new float[n * item];
                            for (int i = 0; i < n; i++) {
                                float[] image = images.get(random.nextInt(images.size()));
                                System.arraycopy(image, 0, x, i * item, item);
                            }
                            predictor.outputs(x);
                            most.accumulateAndGet(predictor.workspaceBytes(), Math::max);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            long ran = Math.min(next.get(), count);
            long held = heapAfterGc();
            System.out.printf(Locale.ROOT, "memory: %d requests of 1..64 items in %.0f s: workspaces at most %d MB, budget"
                    + " %d MB; heap after GC %d MB before, %d MB after (model and cache held)%n", ran,
                    (System.nanoTime() - start) / 1e9, most.get() >> 20, budget >> 20, before >> 20, held >> 20);
        }
    }

    private static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
