package dev.receptive.nn;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.receptive.tensor.Shape;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model's architecture as compact JSON: input item shape, seed and each node's type and
 * settings. A chain (what {@link Sequential} builds) lists its layers in order, e.g. (spaced out
 * here)
 * <pre>
 * {"input": [1, 28, 28], "seed": 42, "layers": [
 *   {"type": "Conv2d", "filters": 32, "kernel": [5, 5], "stride": [1, 1], "padding": [2, 2],
 *    "dilation": [1, 1], "bias": true, "init": "he"},
 *   {"type": "ReLU"}, {"type": "Flatten"}, {"type": "Dense", "units": 10, "bias": true, "init": "he"}]}
 * </pre>
 * A graph also names each node and its inputs, and its output:
 * <pre>
 * {"input": [8, 28, 28], "seed": 1, "output": "out", "layers": [
 *   {"name": "conv1", "inputs": ["input"], "type": "Conv2d", ...},
 *   {"name": "sum", "inputs": ["conv1", "input"], "type": "Add"},
 *   {"name": "out", "inputs": ["sum"], "type": "ReLU"}]}
 * </pre>
 * Parsing is strict JSON (no comments, single quotes or trailing text, no key twice in one
 * object), and every unknown field is an error naming where it is. Node names are unique, letters,
 * digits and '_' in dot-separated parts, and never {@value Model#INPUT}, which names the model's input.
 */
final class Architecture {
    private Architecture() {
    }

    /** What the JSON describes, parsed into fresh layers, before anything is planned or allocated. */
    record Parsed(Shape input, long seed, List<Graph.Spec> specs, String output) {
        /** Plans the graph (once: the plan owns the parsed layers). */
        ModelPlan plan() {
            return ModelPlan.of(input, specs, output, seed, "architecture");
        }
    }

    static String toJson(ModelPlan plan) {
        JsonObject root = new JsonObject();
        JsonArray input = new JsonArray();
        for (int d : plan.inputShape().dims()) {
            input.add(d);
        }
        root.add("input", input);
        root.addProperty("seed", plan.seed());
        boolean chain = plan.isChain();
        if (!chain) {
            root.addProperty("output", plan.nodes().get(plan.nodes().size() - 1).name());
        }
        JsonArray layers = new JsonArray();
        for (Node node : plan.nodes()) {
            JsonObject o = new JsonObject();
            if (!chain) {
                o.addProperty("name", node.name());
                JsonArray ins = new JsonArray();
                node.inputs().forEach(ins::add);
                o.add("inputs", ins);
            }
            o.addProperty("type", node.type());
            if (node.layer() != null) {
                if (!Layers.isRegistered(node.type())) {
                    throw new IllegalStateException("architecture: layer " + node.name() + " (" + node.type()
                            + ") is not a registered layer type, so a saved model could not be loaded: register it"
                            + " with Layers.register(\"" + node.type() + "\", factory)");
                }
                LayerConfig config = new LayerConfig(o, node.name());
                node.layer().config(config);
            }
            layers.add(o);
        }
        root.add("layers", layers);
        return new Gson().toJson(root);
    }

    /**
     * Parses and checks architecture JSON without building anything.
     *
     * @throws IllegalArgumentException naming what is wrong and where
     */
    static Parsed fromJson(String json) {
        JsonObject root = parseStrict(json);
        LayerConfig top = new LayerConfig(root, "top level");
        Shape input = Shape.of(top.getInts("input", 1));
        long seed = top.getLong("seed");
        boolean graph = top.has("output");
        String output = graph ? top.getString("output") : null;
        JsonArray layers = top.array("layers");
        top.rejectUnknown();
        List<Graph.Spec> specs = new ArrayList<>();
        Map<String, Integer> names = new HashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            Graph.Spec spec = node(layers.get(i), i, graph);
            Integer before = names.putIfAbsent(spec.name(), i);
            if (before != null) {
                throw new IllegalArgumentException("architecture: layers[" + i + "] and layers[" + before
                        + "] are both named '" + spec.name() + "'; node names must be unique");
            }
            specs.add(spec);
        }
        if (!graph) {
            output = specs.isEmpty() ? null : specs.get(specs.size() - 1).name();
        }
        return new Parsed(input, seed, specs, output);
    }

    private static Graph.Spec node(JsonElement element, int i, boolean graph) {
        if (!(element instanceof JsonObject object)) {
            throw new IllegalArgumentException("architecture: layers[" + i + "] must be an object, got " + element);
        }
        String type = new LayerConfig(object, "layers[" + i + "]").getString("type");
        LayerConfig f = new LayerConfig(object, "layers[" + i + "] (" + type + ")");
        f.getString("type");
        String name;
        List<String> inputs;
        if (graph) {
            name = f.getString("name");
            if (name.equals(Model.INPUT)) {
                throw f.error("name", "is '" + Model.INPUT + "', which is reserved: it names the model's input, which"
                        + " nodes read as \"inputs\": [\"" + Model.INPUT + "\"]; give the node another name");
            }
            if (!Graph.NAME.matcher(name).matches()) {
                throw f.error("name", "must be letters, digits and '_' in dot-separated parts, got '" + name + "'");
            }
            inputs = new ArrayList<>();
            JsonArray ins = f.array("inputs");
            for (JsonElement in : ins) {
                if (!(in instanceof JsonPrimitive p) || !p.isString()) {
                    throw f.error("inputs", "must be an array of node names, got " + ins);
                }
                inputs.add(p.getAsString());
            }
        } else {
            if (object.has("name") || object.has("inputs")) {
                throw f.error(object.has("name") ? "name" : "inputs",
                        "is only allowed in a graph, which has a top-level 'output'");
            }
            name = Integer.toString(i);
            inputs = List.of(i == 0 ? Model.INPUT : Integer.toString(i - 1));
        }
        try {
            if (type.equals("Add") || type.equals("Concat")) {
                if (inputs.size() < 2) {
                    throw f.error("inputs", "of a merge must name at least two nodes, got " + inputs);
                }
                f.rejectUnknown();
                return new Graph.Spec(name, null, type.equals("Add") ? new Add() : new Concat(), inputs);
            }
            if (inputs.size() != 1) {
                throw f.error("inputs", "of a layer must name exactly one node, got " + inputs);
            }
            return new Graph.Spec(name, Layers.create(type, f), null, inputs);
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("architecture:")) {
                throw e;
            }
            throw new IllegalArgumentException("architecture: layers[" + i + "] (" + type + "): " + e.getMessage(), e);
        }
    }

    /** One JSON object and nothing after it, in strict JSON, with no key twice in one object. */
    static JsonObject parseStrict(String json) {
        rejectDuplicateKeys(json);
        try (JsonReader reader = new JsonReader(new StringReader(json))) {
            reader.setStrictness(Strictness.STRICT);
            JsonElement parsed = JsonParser.parseReader(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new IllegalArgumentException("architecture: text after the JSON object");
            }
            if (!(parsed instanceof JsonObject root)) {
                throw new IllegalArgumentException("architecture: expected a JSON object, got " + parsed);
            }
            return root;
        } catch (JsonParseException | IOException | IllegalStateException e) {
            throw new IllegalArgumentException("architecture: not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * Gson keeps the last of two equal keys, so {"filters": 8, "filters": 64} would silently be a
     * layer of 64: the keys are compared first, walking the tokens with a stack rather than
     * recursion, so that deep nesting cannot overflow the thread's stack. Malformed JSON is left
     * to the parse, which names it.
     */
    private static void rejectDuplicateKeys(String json) {
        Deque<Set<String>> objects = new ArrayDeque<>();
        Set<String> array = Set.of(); // stands for an array on the stack: arrays have no keys
        try (JsonReader reader = new JsonReader(new StringReader(json))) {
            reader.setStrictness(Strictness.STRICT);
            while (true) {
                switch (reader.peek()) {
                    case BEGIN_OBJECT -> {
                        reader.beginObject();
                        objects.push(new HashSet<>());
                    }
                    case END_OBJECT -> {
                        reader.endObject();
                        objects.pop();
                    }
                    case BEGIN_ARRAY -> {
                        reader.beginArray();
                        objects.push(array);
                    }
                    case END_ARRAY -> {
                        reader.endArray();
                        objects.pop();
                    }
                    case NAME -> {
                        String key = reader.nextName();
                        if (!objects.peek().add(key)) {
                            String path = reader.getPath(); // "$.layers[3].filters"
                            String parent = path.substring(0, path.length() - key.length() - 1);
                            throw new IllegalArgumentException("architecture: " + (parent.equals("$") ? "the top level"
                                    : parent.substring(2)) + " names the key '" + key + "' twice; JSON readers"
                                    + " disagree on which value counts");
                        }
                    }
                    case END_DOCUMENT -> {
                        return;
                    }
                    default -> reader.skipValue();
                }
            }
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            // Malformed: the parse that follows reports it in its own words.
        }
    }
}
