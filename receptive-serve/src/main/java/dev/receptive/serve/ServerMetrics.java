package dev.receptive.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Collection;
import java.util.function.IntConsumer;

/** The server's metrics in one registry of its own, written in Prometheus's text format. */
final class ServerMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final Counter requests;
    private final Histogram latency;
    private final Histogram batchSizes;
    private final Counter reloads;
    private volatile Collection<ServedModel> models = java.util.List.of();

    ServerMetrics() {
        requests = Counter.builder().name("receptive_requests").help("HTTP requests by model, endpoint and status code")
                .labelNames("model", "endpoint", "code").register(registry);
        latency = Histogram.builder().name("receptive_request_duration_seconds")
                .help("Time from a request's arrival to its answer, by model and endpoint").labelNames("model", "endpoint")
                .classicOnly().classicUpperBounds(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)
                .register(registry);
        batchSizes = Histogram.builder().name("receptive_batch_size").help("Items in each batched forward pass, by model")
                .labelNames("model").classicOnly().classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256).register(registry);
        reloads = Counter.builder().name("receptive_model_reloads").help("Model files loaded again after they changed")
                .labelNames("model").register(registry);
        GaugeWithCallback.builder().name("receptive_queue_depth")
                .help("Items waiting for a batch (with batching) or being predicted (without), by model").labelNames("model")
                .callback(cb -> models.forEach(m -> withVersion(m, v -> cb.call(v.queueDepth(), m.name()))))
                .register(registry);
        GaugeWithCallback.builder().name("receptive_model_memory_bytes")
                .help("Memory of each served model: its weights (with the gradient tensors a model keeps) and its"
                        + " predictor's workspaces")
                .labelNames("model", "part")
                .callback(cb -> models.forEach(m -> withVersion(m, v -> {
                    cb.call(v.weightBytes, m.name(), "weights");
                    cb.call(v.model.predictor().workspaceBytes(), m.name(), "workspaces");
                }))).register(registry);
        GaugeWithCallback.builder().name("receptive_model_version").help("The version of each model served, from 1 at start")
                .labelNames("model").callback(cb -> models.forEach(m -> withVersion(m, v -> cb.call(v.number, m.name()))))
                .register(registry);
    }

    /** Reports the gauges of these models from now on. */
    void watch(Collection<ServedModel> served) {
        this.models = served;
    }

    /** Runs the action on the model's current version, unless it is closing. */
    private static void withVersion(ServedModel m, java.util.function.Consumer<ServedModel.Version> action) {
        ServedModel.Version v;
        try {
            v = m.acquire();
        } catch (IllegalStateException closed) {
            return;
        }
        try {
            action.accept(v);
        } finally {
            v.release();
        }
    }

    void request(String model, String endpoint, int code, long nanos) {
        requests.labelValues(model, endpoint, Integer.toString(code)).inc();
        latency.labelValues(model, endpoint).observe(nanos / 1e9);
    }

    IntConsumer batchSizes(String model) {
        var sizes = batchSizes.labelValues(model);
        return sizes::observe;
    }

    void reloaded(String model) {
        reloads.labelValues(model).inc();
    }

    String contentType() {
        return writer.getContentType();
    }

    void write(OutputStream out) throws IOException {
        writer.write(out, registry.scrape());
    }
}
