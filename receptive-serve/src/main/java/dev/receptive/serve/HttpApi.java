package dev.receptive.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonWriter;
import dev.receptive.data.ImageInput;
import dev.receptive.tensor.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.RejectedExecutionException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/**
 * The HTTP endpoints. The Open Inference Protocol v2 (REST):
 * <ul>
 * <li>{@code GET /v2/health/live}: 200 while the process serves at all;
 * <li>{@code GET /v2/health/ready}, {@code GET /v2/models/NAME/ready}: 200 once every model is
 *     loaded and warm, 503 before and while shutting down;
 * <li>{@code GET /v2}: the server's name and version;
 * <li>{@code GET /v2/models/NAME}: the model's input ({@code input}, FP32, shape [-1, C, H, W])
 *     and output ({@code probabilities}, FP32, [-1, classes]);
 * <li>{@code POST /v2/models/NAME/infer}: {@code {"inputs": [{"name": "input", "datatype":
 *     "FP32", "shape": [N, C, H, W], "data": [...]}]}}, the values already normalized as the model
 *     file records, flat or nested row-major; answers the probabilities of the N items.
 * </ul>
 * {@code POST /predictions/NAME} (TorchServe's path) takes a PNG, JPEG, GIF or BMP file as the
 * body, decodes, resizes and normalizes it as the model file says ({@code ?invert=auto} inverts a
 * dark-on-light image for a light-on-dark grayscale model, as {@code receptive predict} does) and
 * answers {@code {"class": 3, "class_name": "Dress", "probabilities": [...]}}. {@code GET /metrics}
 * gives the metrics in Prometheus's text format.
 *
 * <p>Errors answer {@code {"error": "..."}}: 400 for a bad request, 404 for an unknown model or
 * path, 405 for a wrong method, 413 for a body over the limit, 429 with Retry-After when the
 * model's queue is full, 503 with Retry-After before ready and while shutting down, 500 when the
 * model fails.
 */
final class HttpApi extends Handler.Abstract {
    private static final String JSON = "application/json";
    /** Seconds a client should wait before trying again after 429 or 503. */
    private static final String RETRY_AFTER = "1";

    private final ModelServer server;
    private final ServerMetrics metrics;

    HttpApi(ModelServer server, ServerMetrics metrics) {
        this.server = server;
        this.metrics = metrics;
    }

    /** An answer that is not 200: its status and message. */
    private static final class Failure extends Exception {
        final int status;

        Failure(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long start = System.nanoTime();
        String path = Request.getPathInContext(request);
        String[] parts = path.split("/");
        String model = parts.length >= 4 && "v2".equals(parts[1]) && "models".equals(parts[2]) ? parts[3]
                : parts.length == 3 && "predictions".equals(parts[1]) ? parts[2] : "";
        String endpoint = endpoint(parts);
        int status;
        try {
            Answer answer = route(request, parts);
            status = answer.status;
            send(response, callback, answer.status, answer.contentType, answer.body);
        } catch (Failure f) {
            status = f.status;
            if (status == 429 || status == 503) {
                response.getHeaders().put(HttpHeader.RETRY_AFTER, RETRY_AFTER);
            }
            send(response, callback, status, JSON, error(f.getMessage()));
        } catch (RuntimeException | IOException e) {
            status = 500;
            send(response, callback, status, JSON, error(model + ": " + e));
        }
        // A name that is no model would make a series per client typo: metrics only count served names.
        metrics.request(server.model(model) != null ? model : "", endpoint, status, System.nanoTime() - start);
        return true;
    }

    /** The endpoint label of a path, from a fixed set. */
    private static String endpoint(String[] parts) {
        if (parts.length >= 2 && "metrics".equals(parts[1])) {
            return "metrics";
        }
        if (parts.length >= 2 && "predictions".equals(parts[1])) {
            return "predictions";
        }
        if (parts.length >= 3 && "v2".equals(parts[1]) && "health".equals(parts[2])) {
            return "health";
        }
        if (parts.length == 5 && "v2".equals(parts[1]) && "models".equals(parts[2])) {
            return "infer".equals(parts[4]) ? "infer" : "ready".equals(parts[4]) ? "health" : "other";
        }
        return parts.length == 4 || parts.length == 2 ? "metadata" : "other";
    }

    private record Answer(int status, String contentType, byte[] body) {
        static Answer json(String body) {
            return new Answer(200, JSON, body.getBytes(StandardCharsets.UTF_8));
        }
    }

    private Answer route(Request request, String[] p) throws Failure, IOException {
        String method = request.getMethod();
        if (p.length == 2 && "metrics".equals(p[1])) {
            get(method);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            metrics.write(out);
            return new Answer(200, metrics.contentType(), out.toByteArray());
        }
        if (p.length == 3 && "predictions".equals(p[1])) {
            post(method);
            return predictions(request, p[2]);
        }
        if (p.length >= 2 && "v2".equals(p[1])) {
            if (p.length == 2) {
                get(method);
                return Answer.json("{\"name\":\"receptive\",\"version\":\"0.1.0\",\"extensions\":[]}");
            }
            if (p.length == 4 && "health".equals(p[2]) && ("live".equals(p[3]) || "ready".equals(p[3]))) {
                get(method);
                if ("ready".equals(p[3]) && !server.ready()) {
                    throw new Failure(503, "not ready: the models are loading, or the server is shutting down");
                }
                return Answer.json("{}");
            }
            if (p.length >= 4 && "models".equals(p[2])) {
                ServedModel m = server.model(p[3]);
                if (m == null) {
                    throw new Failure(404, "no model named '" + p[3] + "'; served: " + server.modelNames());
                }
                if (p.length == 4) {
                    get(method);
                    return metadata(m);
                }
                if (p.length == 5 && "ready".equals(p[4])) {
                    get(method);
                    if (!server.ready()) {
                        throw new Failure(503, m.name() + " is not ready");
                    }
                    return Answer.json("{}");
                }
                if (p.length == 5 && "infer".equals(p[4])) {
                    post(method);
                    return infer(request, m);
                }
            }
        }
        throw new Failure(404, "no endpoint " + Request.getPathInContext(request)
                + "; see /v2/health/ready, /v2/models/NAME, /v2/models/NAME/infer, /predictions/NAME, /metrics");
    }

    private static void get(String method) throws Failure {
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            throw new Failure(405, "use GET here, not " + method);
        }
    }

    private static void post(String method) throws Failure {
        if (!"POST".equals(method)) {
            throw new Failure(405, "use POST here, not " + method);
        }
    }

    private Answer metadata(ServedModel m) throws IOException, Failure {
        ServedModel.Version v = hold(m);
        try {
            StringWriter s = new StringWriter();
            try (JsonWriter w = new JsonWriter(s)) {
                w.beginObject().name("name").value(m.name());
                w.name("versions").beginArray().value(Integer.toString(v.number)).endArray();
                w.name("platform").value("receptive");
                w.name("inputs").beginArray();
                tensor(w, "input", v.model.inputShape());
                w.endArray().name("outputs").beginArray();
                tensor(w, "probabilities", v.model.outputShape());
                w.endArray().endObject();
            }
            return Answer.json(s.toString());
        } finally {
            v.release();
        }
    }

    private static void tensor(JsonWriter w, String name, Shape item) throws IOException {
        w.beginObject().name("name").value(name).name("datatype").value("FP32").name("shape").beginArray().value(-1);
        for (int d = 0; d < item.rank(); d++) {
            w.value(item.dim(d));
        }
        w.endArray().endObject();
    }

    /** The version to answer with, held: 503 while the server is not ready. */
    private ServedModel.Version hold(ServedModel m) throws Failure {
        if (!server.ready()) {
            throw new Failure(503, m.name() + ": not ready: the models are loading, or the server is shutting down");
        }
        try {
            return m.acquire();
        } catch (IllegalStateException closed) {
            throw new Failure(503, m.name() + ": the server is shutting down");
        }
    }

    private Answer infer(Request request, ServedModel m) throws Failure, IOException {
        ServedModel.Version v = hold(m);
        try {
            String body = new String(body(request), StandardCharsets.UTF_8);
            JsonObject req;
            try {
                req = JsonParser.parseString(body).getAsJsonObject();
            } catch (JsonParseException | IllegalStateException e) {
                throw new Failure(400, "the body is not a JSON object: " + e.getMessage());
            }
            float[][] items = inputs(req, v);
            float[][] p = predict(v, items);
            StringWriter s = new StringWriter(64 + p.length * p[0].length * 12);
            try (JsonWriter w = new JsonWriter(s)) {
                w.beginObject().name("model_name").value(m.name()).name("model_version").value(Integer.toString(v.number));
                JsonElement id = req.get("id");
                if (id != null && id.isJsonPrimitive()) {
                    w.name("id").value(id.getAsString());
                }
                w.name("outputs").beginArray().beginObject().name("name").value("probabilities")
                        .name("datatype").value("FP32").name("shape").beginArray().value(p.length).value(p[0].length)
                        .endArray().name("data").beginArray();
                for (float[] row : p) {
                    for (float x : row) {
                        w.value(Float.valueOf(x)); // Float.toString: the shortest text that reads back to the same float
                    }
                }
                w.endArray().endObject().endArray().endObject();
            }
            return Answer.json(s.toString());
        } finally {
            v.release();
        }
    }

    /** The items of a v2 request's one input tensor, checked against the model's input shape. */
    private static float[][] inputs(JsonObject req, ServedModel.Version v) throws Failure {
        JsonElement inputs = req.get("inputs");
        if (inputs == null || !inputs.isJsonArray() || inputs.getAsJsonArray().size() != 1
                || !inputs.getAsJsonArray().get(0).isJsonObject()) {
            throw new Failure(400, "\"inputs\" must be an array of one tensor object");
        }
        JsonObject t = inputs.getAsJsonArray().get(0).getAsJsonObject();
        String datatype = t.has("datatype") && t.get("datatype").isJsonPrimitive() ? t.get("datatype").getAsString() : null;
        if (!"FP32".equals(datatype)) {
            throw new Failure(400, "the input's datatype must be \"FP32\", got " + t.get("datatype"));
        }
        JsonElement outputs = req.get("outputs");
        if (outputs != null && outputs.isJsonArray()) {
            for (JsonElement o : outputs.getAsJsonArray()) {
                JsonElement name = o.isJsonObject() ? o.getAsJsonObject().get("name") : null;
                if (name == null || !"probabilities".equals(name.getAsString())) {
                    throw new Failure(400, "the only output is \"probabilities\", asked for " + o);
                }
            }
        }
        Shape item = v.model.inputShape();
        long[] shape = shape(t.get("shape"));
        boolean fits = shape.length == item.rank() + 1 && shape[0] >= 1;
        for (int d = 0; fits && d < item.rank(); d++) {
            fits = shape[d + 1] == item.dim(d);
        }
        if (!fits) {
            throw new Failure(400, "the input's shape must be [N, " + item.toString().replaceAll("[()]", "")
                    + "] with N >= 1, got " + t.get("shape"));
        }
        if (shape[0] > v.queueLimit()) {
            throw new Failure(400, "a request holds at most " + v.queueLimit() + " items (the queue limit), got "
                    + shape[0]);
        }
        int n = (int) shape[0];
        int size = item.size();
        float[] flat = new float[n * size];
        JsonElement data = t.get("data");
        if (data == null || !data.isJsonArray()) {
            throw new Failure(400, "the input has no \"data\" array");
        }
        int count = flatten(data.getAsJsonArray(), flat, 0);
        if (count != flat.length) {
            throw new Failure(400, "the input's data holds " + count + " values; shape " + t.get("shape") + " needs "
                    + flat.length);
        }
        float[][] items = new float[n][];
        for (int i = 0; i < n; i++) {
            items[i] = java.util.Arrays.copyOfRange(flat, i * size, (i + 1) * size);
        }
        return items;
    }

    private static long[] shape(JsonElement e) throws Failure {
        if (e == null || !e.isJsonArray()) {
            throw new Failure(400, "the input has no \"shape\" array");
        }
        JsonArray a = e.getAsJsonArray();
        long[] s = new long[a.size()];
        for (int i = 0; i < s.length; i++) {
            try {
                s[i] = a.get(i).getAsLong();
            } catch (RuntimeException bad) {
                throw new Failure(400, "the input's shape must hold whole numbers, got " + e);
            }
        }
        return s;
    }

    /** Writes the numbers of a (nested) array into out from index at; returns how many there were. */
    private static int flatten(JsonArray a, float[] out, int at) throws Failure {
        int k = at;
        for (JsonElement e : a) {
            if (e.isJsonArray()) {
                k = flatten(e.getAsJsonArray(), out, k);
                continue;
            }
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
                throw new Failure(400, "the input's data must hold numbers only, got " + e);
            }
            if (k < out.length) {
                float x = e.getAsFloat();
                if (!Float.isFinite(x)) {
                    throw new Failure(400, "value " + k + " of the input is " + e + ", not a finite FP32 number");
                }
                out[k] = x;
            }
            k++;
        }
        return k;
    }

    private Answer predictions(Request request, String name) throws Failure, IOException {
        ServedModel m = server.model(name);
        if (m == null) {
            throw new Failure(404, "no model named '" + name + "'; served: " + server.modelNames());
        }
        ServedModel.Version v = hold(m);
        try {
            Fields query = Request.extractQueryParameters(request);
            String invert = query.getValue("invert");
            if (invert != null && !invert.equals("auto") && !invert.equals("never")) {
                throw new Failure(400, "invert must be auto or never, got '" + invert + "'");
            }
            ImageInput images = "auto".equals(invert) ? v.imagesAutoInvert() : v.images();
            if (images == null) {
                throw new Failure(400, m.name() + " takes no images: " + v.noImages());
            }
            byte[] bytes = body(request);
            float[] x;
            try {
                x = images.load(bytes, "the request body").values();
            } catch (IOException | IllegalArgumentException e) {
                throw new Failure(400, e.getMessage());
            }
            float[] p = predict(v, new float[][] {x})[0];
            int best = 0;
            for (int c = 1; c < p.length; c++) {
                best = p[c] > p[best] ? c : best;
            }
            StringWriter s = new StringWriter();
            try (JsonWriter w = new JsonWriter(s)) {
                w.beginObject().name("model_name").value(m.name()).name("model_version").value(Integer.toString(v.number))
                        .name("class").value(best).name("class_name").value(v.classNames.get(best))
                        .name("probabilities").beginArray();
                for (float q : p) {
                    w.value(Float.valueOf(q));
                }
                w.endArray().endObject();
            }
            return Answer.json(s.toString());
        } finally {
            v.release();
        }
    }

    /** Runs the items, with failures turned into answers: a bad item 400, a full queue 429. */
    private static float[][] predict(ServedModel.Version v, float[][] items) throws Failure {
        try {
            return v.predict(items);
        } catch (IllegalArgumentException e) {
            throw new Failure(400, v.name() + ": " + e.getMessage());
        } catch (RejectedExecutionException e) {
            throw new Failure(429, v.name() + ": " + e.getMessage());
        } catch (IllegalStateException e) {
            throw new Failure(500, v.name() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(503, v.name() + ": interrupted while shutting down");
        }
    }

    /** The request body, refused with 413 beyond the limit (by its declared length before reading it). */
    private byte[] body(Request request) throws Failure, IOException {
        long limit = server.settings().maxBodyBytes();
        long declared = request.getLength();
        if (declared > limit) {
            throw new Failure(413, "the body is " + declared + " bytes; the limit is " + limit);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(declared > 0 ? (int) declared : 8192);
        byte[] buffer = new byte[8192];
        try (InputStream in = Content.Source.asInputStream(request)) {
            int r;
            while ((r = in.read(buffer)) > 0) {
                if (out.size() + r > limit) {
                    throw new Failure(413, "the body is over the limit of " + limit + " bytes");
                }
                out.write(buffer, 0, r);
            }
        }
        return out.toByteArray();
    }

    private static String error(String message) {
        StringWriter s = new StringWriter();
        try (JsonWriter w = new JsonWriter(s)) {
            w.beginObject().name("error").value(message == null ? "" : message).endObject();
        } catch (IOException e) {
            throw new IllegalStateException(e); // a StringWriter does not fail
        }
        return s.toString();
    }

    private static void send(Response response, Callback callback, int status, String type, byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    private static void send(Response response, Callback callback, int status, String type, String body) {
        send(response, callback, status, type, body.getBytes(StandardCharsets.UTF_8));
    }
}
