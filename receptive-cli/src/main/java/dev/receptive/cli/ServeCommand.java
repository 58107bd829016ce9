package dev.receptive.cli;

import dev.receptive.backend.Backend;
import dev.receptive.io.ModelFile;
import dev.receptive.serve.ModelServer;
import dev.receptive.serve.ServeSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve model files over HTTP until stopped (Ctrl-C or SIGTERM, which drains the requests in flight).",
            "Each model is served under its file name without the extension: the Open Inference Protocol v2 "
                + "(GET /v2/health/ready, GET /v2/models/NAME, POST /v2/models/NAME/infer with FP32 tensors already "
                + "normalized), POST /predictions/NAME with a PNG, JPEG, GIF or BMP file as the body, and Prometheus "
                + "metrics at /metrics. Replacing a model file (by a rename) serves the new version once loaded.",
            "Single items from concurrent requests share forward passes (dynamic batching) unless --no-batching."})
final class ServeCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "MODEL", description = "Model files (model.safetensors)")
    List<Path> models = new ArrayList<>();

    @Option(names = "--port", description = "TCP port (default: ${DEFAULT-VALUE}; 0 picks a free one)")
    int port = 8080;

    @Option(names = "--host", description = "Address to listen on (default: ${DEFAULT-VALUE}, every interface)")
    String host = "0.0.0.0";

    @Option(names = "--backend", description = "auto, cpu or cuda (default: RECEPTIVE_BACKEND, else auto)")
    String backend;

    @Option(names = "--no-batching", description = "Run each request in a forward pass of its own")
    boolean noBatching;

    @Option(names = "--max-batch", description = "Most items in one batched forward pass (default: ${DEFAULT-VALUE})")
    int maxBatch = ServeSettings.DEFAULTS.maxBatch();

    @Option(names = "--max-delay-ms", description = "How long a batch waits for more items, in ms (default: "
            + "${DEFAULT-VALUE})")
    double maxDelayMs = ServeSettings.DEFAULTS.maxDelay().toNanos() / 1e6;

    @Option(names = "--queue-limit", description = "Most items waiting per model; more are answered 429 with "
            + "Retry-After (default: ${DEFAULT-VALUE})")
    int queueLimit = ServeSettings.DEFAULTS.queueLimit();

    @Option(names = "--max-body-mb", description = "Largest request body in MiB; larger ones are answered 413 "
            + "(default: ${DEFAULT-VALUE})")
    double maxBodyMb = ServeSettings.DEFAULTS.maxBodyBytes() / (double) (1 << 20);

    @Option(names = "--memory-budget-mb", description = "Workspace memory of each model's predictor, in MiB "
            + "(default: a quarter of the free memory when it starts, at most 1024)")
    Double memoryBudgetMb;

    @Option(names = "--reload-interval-s", description = "How often model files are checked for replacement, in "
            + "seconds; 0 never (default: ${DEFAULT-VALUE})")
    double reloadSeconds = ServeSettings.DEFAULTS.reloadInterval().toMillis() / 1000.0;

    @Option(names = "--drain-timeout-s", description = "How long stopping waits for requests in flight, in seconds "
            + "(default: ${DEFAULT-VALUE})")
    double drainSeconds = ServeSettings.DEFAULTS.drainTimeout().toMillis() / 1000.0;

    @Override
    public Integer call() throws IOException, InterruptedException {
        for (Path m : models) {
            Inputs.modelFile(m); // a checkpoint or a broken file is bad usage, said before anything starts
        }
        ServeSettings settings;
        try {
            settings = new ServeSettings(!noBatching, maxBatch, millis(maxDelayMs, "--max-delay-ms"), queueLimit,
                    (long) (maxBodyMb * (1 << 20)), memoryBudgetMb == null ? -1 : (long) (memoryBudgetMb * (1 << 20)),
                    millis(reloadSeconds * 1000, "--reload-interval-s"), millis(drainSeconds * 1000, "--drain-timeout-s"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage().replaceFirst("^serve: ", ""), e);
        }
        // Jetty's start-up lines would drown the one line below; its warnings still show.
        java.util.logging.Logger.getLogger("org.eclipse.jetty").setLevel(java.util.logging.Level.WARNING);
        Activity.set("starting the server");
        try (Backend b = Inputs.backend(backend)) {
            ModelServer server;
            try {
                server = new ModelServer(models, b, settings, host, port);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage(), e);
            }
            Thread stop = new Thread(() -> {
                System.out.println("receptive serve: stopping; answering the requests in flight");
                server.close();
                System.out.println("receptive serve: stopped");
                System.out.flush();
            }, "receptive-serve-stop");
            Runtime.getRuntime().addShutdownHook(stop);
            try {
                server.start();
            } catch (IOException | RuntimeException e) {
                Runtime.getRuntime().removeShutdownHook(stop);
                server.close();
                throw e;
            }
            for (Path m : models) {
                ModelFile.Contents c = ModelFile.read(m);
                System.out.println("receptive serve: " + ModelServer.modelName(m) + " from " + m + ": input "
                        + c.model().inputShape() + ", output " + c.model().outputShape());
            }
            System.out.println("receptive serve: ready on http://" + host + ":" + server.port() + " (backend "
                    + b.name() + ", " + (noBatching ? "no batching" : "batches up to " + maxBatch + " items") + ")");
            System.out.flush();
            Activity.set("serving");
            server.join();
        }
        return Main.OK;
    }

    private static Duration millis(double ms, String option) {
        if (!(ms >= 0) || Double.isInfinite(ms)) {
            throw new UsageException(option + " must be a number >= 0, got " + ms);
        }
        return Duration.ofNanos((long) (ms * 1e6));
    }
}
