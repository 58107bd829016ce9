package dev.receptive.nn;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.receptive.backend.Backend;
import dev.receptive.backend.Pool2dParams;
import dev.receptive.nn.init.Init;

/**
 * A Sequential's architecture as compact JSON: input item shape, seed and each layer's type
 * and settings, e.g. (spaced out here)
 * <pre>
 * {"input": [1, 28, 28], "seed": 42, "layers": [
 *   {"type": "Conv2d", "filters": 32, "kernel": [5, 5], "stride": [1, 1], "padding": [2, 2],
 *    "dilation": [1, 1], "bias": true, "init": "he"},
 *   {"type": "ReLU"}, {"type": "MaxPool2d", "window": [2, 2], "stride": [2, 2], "padding": [0, 0]},
 *   {"type": "Flatten"}, {"type": "Dense", "units": 10, "bias": true, "init": "he"},
 *   {"type": "Dropout", "p": 0.5}]}
 * </pre>
 */
final class Architecture {
    private static final String KNOWN = "Conv2d, MaxPool2d, AvgPool2d, Dense, Flatten, Dropout, ReLU, Tanh, Sigmoid, Softmax";

    private Architecture() {
    }

    static String toJson(Sequential model) {
        JsonObject root = new JsonObject();
        JsonArray input = new JsonArray();
        for (int d : model.inputShape().dims()) {
            input.add(d);
        }
        root.add("input", input);
        root.addProperty("seed", model.seed());
        JsonArray layers = new JsonArray();
        for (Layer layer : model.layers()) {
            JsonObject config = new JsonObject();
            config.addProperty("type", layer.type());
            layer.writeConfig(config);
            layers.add(config);
        }
        root.add("layers", layers);
        return new Gson().toJson(root);
    }

    static Sequential fromJson(String json, Backend backend) {
        JsonElement parsed;
        try {
            parsed = JsonParser.parseString(json);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("architecture: not valid JSON: " + e.getMessage(), e);
        }
        if (!(parsed instanceof JsonObject root)) {
            throw new IllegalArgumentException("architecture: expected a JSON object, got " + parsed);
        }
        JsonFields fields = new JsonFields(root, "top level");
        Sequential.Builder builder = Sequential.builder()
                .input(fields.positiveInts("input"))
                .seed(fields.longInteger("seed"));
        JsonArray layers = fields.array("layers");
        fields.rejectUnknown();
        for (int i = 0; i < layers.size(); i++) {
            builder.add(layer(layers.get(i), i));
        }
        return builder.build(backend);
    }

    private static Layer layer(JsonElement element, int i) {
        if (!(element instanceof JsonObject object)) {
            throw new IllegalArgumentException("architecture: layers[" + i + "] must be an object, got " + element);
        }
        String type = new JsonFields(object, "layers[" + i + "]").string("type");
        JsonFields f = new JsonFields(object, "layers[" + i + "] (" + type + ")");
        f.string("type");
        Layer layer;
        try {
            layer = switch (type) {
                case "Conv2d" -> conv2d(f);
                case "MaxPool2d" -> new MaxPool2d(pool(f));
                case "AvgPool2d" -> new AvgPool2d(pool(f));
                case "Dense" -> Dense.builder().units(f.positiveInt("units")).bias(f.bool("bias"))
                        .init(init(f)).build();
                case "Flatten" -> new Flatten();
                case "Dropout" -> new Dropout(f.number("p"));
                case "ReLU" -> new ReLU();
                case "Tanh" -> new Tanh();
                case "Sigmoid" -> new Sigmoid();
                case "Softmax" -> new Softmax();
                default -> throw f.error("type", "names no known layer: '" + type + "' (known: " + KNOWN + ")");
            };
        } catch (IllegalArgumentException e) {
            if (e.getMessage().startsWith("architecture:")) {
                throw e;
            }
            throw new IllegalArgumentException("architecture: layers[" + i + "] (" + type + "): " + e.getMessage(), e);
        }
        f.rejectUnknown();
        return layer;
    }

    private static Conv2d conv2d(JsonFields f) {
        int[] kernel = f.pair("kernel", 1);
        int[] stride = f.pair("stride", 1);
        int[] padding = f.pair("padding", 0);
        int[] dilation = f.pair("dilation", 1);
        return Conv2d.builder().filters(f.positiveInt("filters")).kernel(kernel[0], kernel[1])
                .stride(stride[0], stride[1]).padding(padding[0], padding[1]).dilation(dilation[0], dilation[1])
                .bias(f.bool("bias")).init(init(f)).build();
    }

    private static Pool2dParams pool(JsonFields f) {
        int[] window = f.pair("window", 1);
        int[] stride = f.pair("stride", 1);
        int[] padding = f.pair("padding", 0);
        return new Pool2dParams(window[0], window[1], stride[0], stride[1], padding[0], padding[1]);
    }

    private static Init init(JsonFields f) {
        String name = f.string("init");
        try {
            return Init.byName(name);
        } catch (IllegalArgumentException e) {
            throw f.error("init", "names no known init: '" + name + "' (known: he, xavier)");
        }
    }
}
