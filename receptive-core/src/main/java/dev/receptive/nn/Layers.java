package dev.receptive.nn;

import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The layer types architecture JSON may name, each with the factory that makes a layer from its
 * settings. The built-in layers are registered. A custom {@link Layer} subclass is registered once
 * (at start-up, before models that use it are loaded), best with its settings as a record, which
 * then is the one place they are declared: {@link Layer#settings()} returns it, architecture JSON
 * holds its components by name, and the factory gets it back:
 *
 * <pre>
 * public record SwishSettings(double beta) { }
 * Layers.register("Swish", SwishSettings.class, Swish::new);
 * </pre>
 *
 * A layer that writes its settings itself ({@link Layer#writeConfig}) registers a factory that
 * reads them from the {@link LayerConfig}: {@code Layers.register("Swish", c -> new Swish(c.getDouble("beta")))}.
 *
 * Thread-safe.
 */
public final class Layers {
    /** A factory and what identifies it, so that registering the same one twice is harmless. */
    private record Entry(Object key, Object settings, Function<LayerConfig, ? extends Layer> make) {
    }

    private static final Map<String, Entry> FACTORIES = new ConcurrentHashMap<>();

    static {
        FACTORIES.put("Conv2d", settings(Conv2d.Settings.class, Conv2d::new));
        FACTORIES.put("MaxPool2d", settings(Pool2d.Settings.class, MaxPool2d::new));
        FACTORIES.put("AvgPool2d", settings(Pool2d.Settings.class, AvgPool2d::new));
        FACTORIES.put("Dense", settings(Dense.Settings.class, Dense::new));
        FACTORIES.put("Dropout", settings(Dropout.Settings.class, Dropout::new));
        FACTORIES.put("BatchNorm2d", settings(BatchNorm.Settings.class, BatchNorm2d::new));
        FACTORIES.put("BatchNorm1d", settings(BatchNorm.Settings.class, BatchNorm1d::new));
        FACTORIES.put("Flatten", plain(c -> new Flatten()));
        FACTORIES.put("ReLU", plain(c -> new ReLU()));
        FACTORIES.put("Tanh", plain(c -> new Tanh()));
        FACTORIES.put("Sigmoid", plain(c -> new Sigmoid()));
        FACTORIES.put("Softmax", plain(c -> new Softmax()));
        FACTORIES.put("GlobalAvgPool2d", plain(c -> new GlobalAvgPool2d()));
    }

    private Layers() {
    }

    private static <S extends Record> Entry settings(Class<S> type, Function<? super S, ? extends Layer> factory) {
        return new Entry(factory, type, c -> factory.apply(c.getRecord(type)));
    }

    private static Entry plain(Function<LayerConfig, ? extends Layer> factory) {
        return new Entry(factory, null, factory);
    }

    /**
     * Registers a layer type whose settings are a record: architecture JSON holds the record's
     * components by name (see {@link LayerConfig#putRecord}), and loading reads them back and
     * calls {@code factory}. Registering the same type again is refused, unless with the same
     * record type (then the first factory stays).
     *
     * @param <S> the settings record
     * @param type the name in architecture JSON (what the layer's {@link Layer#type()} returns), not blank
     * @param settings the record class; its components are int, long, float, double, boolean, String, enums,
     *     {@link dev.receptive.nn.init.Init} or {@link HeightWidth}
     * @param factory makes the layer from its settings; it may be called from several threads
     * @throws IllegalArgumentException when the type is taken by another factory or is a merge's, or an
     *     argument is null or blank
     */
    public static <S extends Record> void register(String type, Class<S> settings,
            Function<? super S, ? extends Layer> factory) {
        if (settings == null || factory == null) {
            throw new IllegalArgumentException("Layers.register: type, settings and factory must be given");
        }
        put(type, settings(settings, factory));
    }

    /**
     * Registers the factory of layer type {@code type} that reads its settings from a
     * {@link LayerConfig} (for layers that override {@link Layer#writeConfig}). Registering the same
     * type again is refused, unless it is the same factory.
     *
     * @param type the name in architecture JSON, not blank
     * @param factory makes the layer from its settings, reading each field it needs (a field it leaves unread
     *     makes loading fail); it may be called from several threads
     * @throws IllegalArgumentException when the type is taken by another factory or is a merge's, or an
     *     argument is null or blank
     */
    public static void register(String type, Function<LayerConfig, ? extends Layer> factory) {
        if (factory == null) {
            throw new IllegalArgumentException("Layers.register: type and factory must be given");
        }
        put(type, plain(factory));
    }

    private static void put(String type, Entry entry) {
        if (type == null || type.isBlank()) {
            throw new IllegalArgumentException("Layers.register: type and factory must be given");
        }
        if (type.equals("Add") || type.equals("Concat")) {
            throw new IllegalArgumentException("Layers.register: '" + type + "' is a merge type");
        }
        Entry before = FACTORIES.putIfAbsent(type, entry);
        // A record type identifies a registration (each `Layer::new` is a new object); a plain factory is itself.
        boolean same = before != null && (entry.settings() != null ? before.settings() == entry.settings()
                : before.key() == entry.key());
        if (before != null && !same) {
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
        Entry entry = FACTORIES.get(type);
        if (entry == null) {
            throw config.error("type", "names no known layer: '" + type + "' (known: " + new TreeSet<>(FACTORIES.keySet())
                    + ", and the merges Add, Concat; register custom layers with Layers.register)");
        }
        Layer layer = entry.make().apply(config);
        if (layer == null || !layer.type().equals(type)) {
            throw new IllegalStateException("Layers: the factory of '" + type + "' made "
                    + (layer == null ? "null" : "a layer of type '" + layer.type() + "'"));
        }
        config.rejectUnknown();
        return layer;
    }
}
