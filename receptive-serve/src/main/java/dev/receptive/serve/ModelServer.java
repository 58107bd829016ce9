package dev.receptive.serve;

import dev.receptive.backend.Backend;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.BlockingArrayQueue;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Serves model files over HTTP: the Open Inference Protocol v2 (KServe's REST protocol, which
 * Triton, TorchServe and MLServer speak) for tensors, {@code POST /predictions/NAME} for image
 * files (TorchServe's path), and Prometheus metrics at {@code /metrics}. Each model is served under
 * its file name without the extension. {@link #start()} loads every model, starts listening,
 * warms every model up and only then reports ready; a model file replaced while serving is
 * loaded again, and its new version is served once it is warm, while requests already running
 * finish on the old one. {@link #close()} stops taking connections, waits for the requests in
 * flight and closes the models.
 *
 * <p>The server runs on Jetty with TCP_NODELAY on every connection (answers are small, and
 * Nagle's algorithm would hold them back). See {@link HttpApi} for the endpoints.
 */
public final class ModelServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ModelServer.class.getName());
    /** Jetty's threads: requests block while their items wait for a batch, so there are as many as clients. */
    private static final int MAX_THREADS = 512;
    private static final int MAX_QUEUED_JOBS = 4096;

    private final List<Path> files;
    private final Backend backend;
    private final ServeSettings settings;
    private final String host;
    private final int port;
    /** Set once by start(), never changed after. */
    private volatile Map<String, ServedModel> models = Map.of();
    private final ServerMetrics metrics = new ServerMetrics();
    private Server server;
    private ServerConnector connector;
    private ScheduledExecutorService reloader;
    private volatile boolean ready;
    private volatile boolean closing;

    /**
     * A server of {@code files} on {@code backend}; nothing is loaded before {@link #start()}.
     *
     * @param files model files, served under their names without the extension (which must differ)
     * @param backend where the models run; the server borrows it
     * @param settings batching, limits and reloads
     * @param host the address to listen on, such as "127.0.0.1" or "0.0.0.0" for every interface
     * @param port the port, or 0 for any free one (see {@link #port()})
     * @throws IllegalArgumentException when no file is given or two files have the same name
     */
    public ModelServer(List<Path> files, Backend backend, ServeSettings settings, String host, int port) {
        if (files == null || files.isEmpty()) {
            throw new IllegalArgumentException("serve: no model files");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("serve: port must be 0..65535, got " + port);
        }
        Map<String, Path> names = new LinkedHashMap<>();
        for (Path f : files) {
            Path previous = names.put(modelName(f), f);
            if (previous != null) {
                throw new IllegalArgumentException("serve: " + previous + " and " + f + " would both be served as '"
                        + modelName(f) + "'; models are named by their file names without the extension");
            }
        }
        this.files = List.copyOf(files);
        this.backend = backend;
        this.settings = settings;
        this.host = host;
        this.port = port;
    }

    /**
     * {@return the name a model file is served under: its file name up to the last dot}
     *
     * @param file a model file
     */
    public static String modelName(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /**
     * Loads every model, starts listening, warms the models up and reports ready.
     *
     * @throws IOException when a model file does not read or the port cannot be bound
     * @throws IllegalArgumentException when a model file does not fit its architecture or cannot be served
     */
    public void start() throws IOException {
        Map<String, ServedModel> loaded = new LinkedHashMap<>();
        try {
            for (Path f : files) {
                String name = modelName(f);
                loaded.put(name, new ServedModel(name, f, settings, backend, metrics.batchSizes(name)));
            }
        } catch (IOException | RuntimeException e) {
            loaded.values().forEach(ServedModel::close);
            throw e;
        }
        models = Collections.unmodifiableMap(loaded);
        metrics.watch(models.values());
        // A bounded queue of jobs too: past it Jetty refuses connections rather than growing the heap.
        QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS, 8, 60_000, new BlockingArrayQueue<>(MAX_QUEUED_JOBS));
        threads.setName("receptive-http");
        server = new Server(threads);
        connector = new ServerConnector(server);
        connector.setHost(host);
        connector.setPort(port);
        connector.setAcceptedTcpNoDelay(true);
        server.addConnector(connector);
        GracefulHandler graceful = new GracefulHandler(new HttpApi(this, metrics));
        server.setHandler(graceful);
        server.setStopTimeout(settings.drainTimeout().toMillis());
        server.setStopAtShutdown(false);
        try {
            server.start();
        } catch (Exception e) {
            close();
            throw new IOException("serve: cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        for (ServedModel m : models.values()) {
            ServedModel.Version v = m.acquire();
            try {
                v.warmUp();
            } finally {
                v.release();
            }
        }
        if (!settings.reloadInterval().isZero()) {
            reloader = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "receptive-reload");
                t.setDaemon(true);
                return t;
            });
            long every = settings.reloadInterval().toMillis();
            reloader.scheduleWithFixedDelay(this::reloadChanged, every, every, TimeUnit.MILLISECONDS);
        }
        ready = true;
        LOG.log(System.Logger.Level.INFO, "serving " + models.keySet() + " on " + host + ":" + port());
    }

    private void reloadChanged() {
        for (ServedModel m : models.values()) {
            if (closing) {
                return;
            }
            try {
                if (m.reloadIfChanged()) {
                    metrics.reloaded(m.name());
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, m.name() + ": reload failed: " + e.getMessage(), e);
            }
        }
    }

    /**
     * {@return the port the server listens on (the one chosen when 0 was asked for)}
     *
     * @throws IllegalStateException before {@link #start()}
     */
    public int port() {
        if (connector == null) {
            throw new IllegalStateException("serve: the server is not started");
        }
        return connector.getLocalPort();
    }

    /** {@return whether every model is loaded and warm and the server is not shutting down} */
    public boolean ready() {
        return ready && !closing;
    }

    /** {@return the names of the models served, in the order their files were given} */
    public List<String> modelNames() {
        return List.copyOf(models.keySet());
    }

    /** The served model of that name, or null. */
    ServedModel model(String name) {
        return models.get(name);
    }

    /** {@return the settings served with} */
    public ServeSettings settings() {
        return settings;
    }

    /**
     * Shuts down gracefully: not ready from now on, no new connections, requests in flight
     * answered (up to the drain timeout), then every model's batcher drained and model closed.
     */
    @Override
    public void close() {
        closing = true;
        if (reloader != null) {
            reloader.shutdownNow();
            try {
                reloader.awaitTermination(settings.drainTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (server != null) {
            try {
                server.stop();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "serve: stopping the HTTP server: " + e.getMessage(), e);
            }
        }
        models.values().forEach(ServedModel::close);
    }

    /** Blocks until the server has stopped (after {@link #close()} from another thread). */
    public void join() throws InterruptedException {
        if (server != null) {
            server.join();
        }
    }
}
