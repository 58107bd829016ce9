package dev.receptive.nn;

import dev.receptive.backend.Pool2dParams;
import dev.receptive.nn.init.Init;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The layer types architecture JSON may name, each with the factory that makes a layer from its
 * {@link LayerConfig}. The built-in layers are registered; a custom {@link Layer} subclass is
 * registered once (at start-up, before models that use it are loaded):
 *
 * <pre>
 * Layers.register("Swish", config -&gt; new Swish(config.getDouble("beta")));
 * </pre>
 *
 * Thread-safe.
 */
public final class Layers {
    private static final Map<String, Function<LayerConfig, ? extends Layer>> FACTORIES = new ConcurrentHashMap<>();

    static {
        FACTORIES.put("Conv2d", Conv2d::fromConfig);
        FACTORIES.put("MaxPool2d", c -> new MaxPool2d(pool(c)));
        FACTORIES.put("AvgPool2d", c -> new AvgPool2d(pool(c)));
        FACTORIES.put("Dense", Dense::fromConfig);
        FACTORIES.put("Flatten", c -> new Flatten());
        FACTORIES.put("Dropout", c -> new Dropout(c.getDouble("p")));
        FACTORIES.put("ReLU", c -> new ReLU());
        FACTORIES.put("Tanh", c -> new Tanh());
        FACTORIES.put("Sigmoid", c -> new Sigmoid());
        FACTORIES.put("Softmax", c -> new Softmax());
        FACTORIES.put("BatchNorm2d", c -> new BatchNorm2d(c.getDouble("eps"), c.getDouble("momentum")));
        FACTORIES.put("BatchNorm1d", c -> new BatchNorm1d(c.getDouble("eps"), c.getDouble("momentum")));
        FACTORIES.put("GlobalAvgPool2d", c -> new GlobalAvgPool2d());
    }

    private Layers() {
    }

    /**
     * Registers the factory of layer type {@code type} (what the layer's {@link Layer#type()}
     * returns). Registering the same type again replaces nothing and is refused, unless it is
     * the same factory.
     *
     * @param type the name in architecture JSON, not blank
     * @param factory makes the layer from its settings, reading each field it needs (a field it leaves unread
     *     makes loading fail); it may be called from several threads
     * @throws IllegalArgumentException when the type is taken by another factory or is a merge's, or an
     *     argument is null or blank
     */
    public static void register(String type, Function<LayerConfig, ? extends Layer> factory) {
        if (type == null || type.isBlank() || factory == null) {
            throw new IllegalArgumentException("Layers.register: type and factory must be given");
        }
        if (type.equals("Add") || type.equals("Concat")) {
            throw new IllegalArgumentException("Layers.register: '" + type + "' is a merge type");
        }
        Function<LayerConfig, ? extends Layer> before = FACTORIES.putIfAbsent(type, factory);
        if (before != null && before != factory) {
            throw new IllegalArgumentException("Layers.register: layer type '" + type + "' is already registered");
        }
    }

    /**
     * Whether architecture JSON may name {@code type} as a layer.
     *
     * @param type a layer type, e.g. "Conv2d"
     * @return true for the built-in layers and registered ones (false for the merges Add and Concat)
     */
    public static boolean isRegistered(String type) {
        return FACTORIES.containsKey(type);
    }

    /** The layer that {@code config} describes; the config's unread fields are an error. */
    static Layer create(String type, LayerConfig config) {
        Function<LayerConfig, ? extends Layer> factory = FACTORIES.get(type);
        if (factory == null) {
            throw config.error("type", "names no known layer: '" + type + "' (known: " + new TreeSet<>(FACTORIES.keySet())
                    + ", and the merges Add, Concat; register custom layers with Layers.register)");
        }
        Layer layer = factory.apply(config);
        if (layer == null || !layer.type().equals(type)) {
            throw new IllegalStateException("Layers: the factory of '" + type + "' made "
                    + (layer == null ? "null" : "a layer of type '" + layer.type() + "'"));
        }
        config.rejectUnknown();
        return layer;
    }

    static Pool2dParams pool(LayerConfig c) {
        int[] window = c.getPair("window", 1);
        int[] stride = c.getPair("stride", 1);
        int[] padding = c.getPair("padding", 0);
        return new Pool2dParams(window[0], window[1], stride[0], stride[1], padding[0], padding[1]);
    }

    static Init init(LayerConfig c) {
        String name = c.getString("init");
        try {
            return Init.byName(name);
        } catch (IllegalArgumentException e) {
            throw c.error("init", "names no known init: '" + name + "' (known: he, xavier)");
        }
    }
}
