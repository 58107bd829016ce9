package dev.receptive.spark;

import dev.receptive.backend.Backend;
import dev.receptive.backend.BackendOptions;
import dev.receptive.backend.Backends;
import dev.receptive.data.Dataset;
import dev.receptive.nn.Model;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * What one executor JVM keeps between tasks: one backend per (backend, device) made on first use
 * and shared by every task after it, the training data its tasks read, the models of the training
 * run and the inference jobs under way. {@link ReceptivePlugin} closes everything when the
 * executor stops: models first, then backends.
 *
 * <p>Thread-safe: the task threads of one executor share it.
 */
public final class ExecutorResources {
    /** Inference models kept for later tasks once no task uses them. */
    private static final int IDLE_MODELS = 2;
    private static final System.Logger LOG = System.getLogger(ExecutorResources.class.getName());

    private static final Map<DeviceChoice, SharedBackend> BACKENDS = new LinkedHashMap<>();
    private static final Map<TrainingData, LoadedData> DATA = new HashMap<>();
    private static final Map<String, Deque<Replica>> REPLICAS = new HashMap<>();
    private static final LinkedHashMap<Long, CachedModel> MODELS = new LinkedHashMap<>(16, 0.75f, true);
    private static long backendsCreated;
    private static long backendsClosed;
    private static long nextId = 1;

    private ExecutorResources() {
    }

    /**
     * A backend shared by every task of this JVM that asks for the same one, and its id in this JVM.
     *
     * @param id a number unique among this JVM's backends, from 1
     * @param backend the backend, owned by this class (tasks must not close it)
     */
    public record SharedBackend(long id, Backend backend) {
    }

    /**
     * The backend for the current task: its device from the GPUs Spark assigned to the task (see
     * {@link DeviceChoice}), made once per JVM and reused.
     *
     * @param choice the backend choice, as {@link DeviceChoice#of} takes it
     * @return the shared backend; closed by {@link #closeAll} when the executor stops, never by a task
     * @throws IllegalArgumentException when a GPU address is not a device number
     * @throws IllegalStateException when a device backend is named but the task has no GPU
     */
    public static SharedBackend backendForTask(String choice) {
        return backend(choiceForTask(choice));
    }

    /** The backend and device for the current task, from the "gpu" addresses Spark assigned it (none outside a task). */
    static DeviceChoice choiceForTask(String choice) {
        TaskContext task = TaskContext.get();
        String[] gpus = null;
        if (task != null) {
            ResourceInformation gpu = task.resourcesJMap().get("gpu");
            gpus = gpu == null ? null : gpu.addresses();
        }
        return DeviceChoice.of(choice, gpus);
    }

    /**
     * The backend of {@code choice}, made on first use and reused by every later call in this JVM.
     *
     * @param choice the backend and device
     * @return the shared backend; closed by {@link #closeAll}, never by a task
     */
    public static synchronized SharedBackend backend(DeviceChoice choice) {
        SharedBackend b = BACKENDS.get(choice);
        if (b == null) {
            BackendOptions options = BackendOptions.defaults().withDevice(choice.device());
            org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
            if (env != null) {
                options = options.withThreads(cpuThreads(env.conf(), Runtime.getRuntime().availableProcessors()));
            }
            Backend backend = Backends.create(choice.backend(), options);
            b = new SharedBackend(nextId++, backend);
            BACKENDS.put(choice, b);
            backendsCreated++;
            LOG.log(System.Logger.Level.INFO, "receptive-spark: backend " + backend.description() + " ready for "
                    + choice);
        }
        return b;
    }

    /**
     * The CPU threads an executor's backend may use: the executor's cores as Spark counts them
     * ({@code spark.executor.cores}; in local mode the N of {@code local[N]}), at most the cores
     * the JVM sees. The executor's tasks share one backend, so this is the pool all of them use
     * together, whatever {@code spark.task.cpus} splits it into; without a setting, every core.
     *
     * @param conf the executor's Spark configuration
     * @param available the cores the JVM sees
     * @return from 1 to available
     */
    static int cpuThreads(org.apache.spark.SparkConf conf, int available) {
        int cores = -1;
        if (conf.contains("spark.executor.cores")) {
            cores = conf.getInt("spark.executor.cores", available);
        } else {
            String master = conf.get("spark.master", "");
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("local\\[(\\d+)").matcher(master);
            if (master.startsWith("local[") && m.lookingAt()) {
                cores = Integer.parseInt(m.group(1));
            }
        }
        return cores < 1 ? available : Math.min(cores, available);
    }

    /** {@return how many backends this JVM has made so far} */
    public static synchronized long backendsCreated() {
        return backendsCreated;
    }

    /** {@return how many backends this JVM has closed so far} */
    public static synchronized long backendsClosed() {
        return backendsClosed;
    }

    /** {@return how many backends are open now} */
    public static synchronized int openBackends() {
        return BACKENDS.size();
    }

    /** Data an executor read, and a fingerprint of its values that shows whether two executors read the same. */
    record LoadedData(Dataset data, long fingerprint) {
    }

    /** The data of {@code source}, read on first use and kept for the life of the JVM (or until {@link #closeAll}). */
    static LoadedData dataset(TrainingData source) {
        synchronized (DATA) {
            LoadedData d = DATA.get(source);
            if (d == null) {
                Dataset data;
                try {
                    data = source.load();
                } catch (IOException e) {
                    throw new UncheckedIOException("receptive-spark: the executor could not read the training data ("
                            + source + "): " + e.getMessage(), e);
                }
                d = new LoadedData(data, fingerprint(data));
                DATA.put(source, d);
            }
            return d;
        }
    }

    /** A 64-bit hash of every label and every image value (FNV-1a over their bits). */
    static long fingerprint(Dataset data) {
        long h = 0xcbf29ce484222325L;
        float[] image = new float[data.itemShape().size()];
        for (int i = 0; i < data.size(); i++) {
            h = (h ^ data.label(i)) * 0x100000001b3L;
            data.copyImage(i, image, 0);
            for (float v : image) {
                h = (h ^ Float.floatToIntBits(v)) * 0x100000001b3L;
            }
        }
        return h;
    }

    // ---- training replicas -------------------------------------------------------------------

    /**
     * Tests set this to have every all-reduce task take an idle replica that kept another rank's
     * state, as when Spark places a stage's ranks on other executors than the stage before.
     */
    static volatile boolean swapRanks;

    /**
     * A replica of training run {@code run} that no other task is using, made by {@code make}
     * (outside the lock) when none is idle. Replicas of other runs are closed: one training run at
     * a time per executor. Give it back with {@link #release}.
     */
    static Replica borrowReplica(String run, Function<String, Replica> make) {
        return borrowReplica(run, -1, make);
    }

    /**
     * As {@link #borrowReplica(String, Function)}, preferring an idle replica that kept the state
     * of all-reduce rank {@code rank} ({@link Replica#keep}).
     */
    static Replica borrowReplica(String run, int rank, Function<String, Replica> make) {
        List<Replica> stale = new ArrayList<>();
        Replica idle;
        synchronized (ExecutorResources.class) {
            for (var it = REPLICAS.entrySet().iterator(); it.hasNext();) {
                var e = it.next();
                if (!e.getKey().equals(run)) {
                    stale.addAll(e.getValue());
                    it.remove();
                }
            }
            Deque<Replica> pool = REPLICAS.computeIfAbsent(run, k -> new ArrayDeque<>());
            idle = pool.stream().filter(r -> rank >= 0 && (r.keptRank() == rank) != swapRanks).findFirst()
                    .orElse(pool.peekFirst());
            if (idle != null) {
                pool.remove(idle);
            }
        }
        stale.forEach(Replica::close);
        return idle != null ? idle : make.apply(run);
    }

    /** Returns a replica to its run's pool, or closes it when the run has been dropped or it failed. */
    static synchronized void release(Replica replica, boolean healthy) {
        Deque<Replica> idle = REPLICAS.get(replica.run());
        if (healthy && idle != null) {
            idle.offerFirst(replica);
        } else {
            replica.close();
        }
    }

    /** Closes the idle replicas of {@code run} and forgets it; replicas in use close when they come back. */
    static synchronized void dropRun(String run) {
        Deque<Replica> idle = REPLICAS.remove(run);
        if (idle != null) {
            idle.forEach(Replica::close);
        }
    }

    /** How many idle replicas this JVM keeps, over all runs. */
    static synchronized int idleReplicas() {
        int n = 0;
        for (Deque<Replica> d : REPLICAS.values()) {
            n += d.size();
        }
        return n;
    }

    // ---- inference models --------------------------------------------------------------------

    /** A model in use by one task; closing the lease hands it back. */
    static final class ModelLease implements AutoCloseable {
        private final CachedModel entry;
        private boolean closed;

        private ModelLease(CachedModel entry) {
            this.entry = entry;
        }

        Model model() {
            return entry.model;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                releaseModel(entry);
            }
        }
    }

    private static final class CachedModel {
        final Model model;
        int users;
        boolean evicted;

        CachedModel(Model model) {
            this.model = model;
        }
    }

    /**
     * The model of broadcast {@code key}, built on first use by {@code make} and shared by the tasks
     * of this JVM (its predictor is thread-safe). Models no task uses beyond the {@value #IDLE_MODELS}
     * most recent are closed.
     */
    static ModelLease model(long key, Function<Long, Model> make) {
        CachedModel entry;
        synchronized (ExecutorResources.class) {
            entry = MODELS.get(key);
            if (entry != null) {
                entry.users++;
                return new ModelLease(entry);
            }
        }
        // Built outside the lock: another task may build the same one; the first in wins.
        Model built = make.apply(key);
        List<Model> toClose = new ArrayList<>();
        synchronized (ExecutorResources.class) {
            entry = MODELS.get(key);
            if (entry == null) {
                entry = new CachedModel(built);
                MODELS.put(key, entry);
            } else {
                toClose.add(built);
            }
            entry.users++;
            evictIdleModels(toClose);
        }
        toClose.forEach(Model::close);
        return new ModelLease(entry);
    }

    private static void releaseModel(CachedModel entry) {
        List<Model> toClose = new ArrayList<>();
        synchronized (ExecutorResources.class) {
            entry.users--;
            if (entry.evicted && entry.users == 0) {
                toClose.add(entry.model);
            }
            evictIdleModels(toClose);
        }
        toClose.forEach(Model::close);
    }

    /** Drops the least recently used idle models beyond {@value #IDLE_MODELS}; caller holds the lock. */
    private static void evictIdleModels(List<Model> toClose) {
        int idle = 0;
        for (CachedModel m : MODELS.values()) {
            idle += m.users == 0 ? 1 : 0;
        }
        for (var it = MODELS.values().iterator(); it.hasNext() && idle > IDLE_MODELS;) {
            CachedModel m = it.next();
            if (m.users == 0) {
                it.remove();
                toClose.add(m.model);
                idle--;
            }
        }
    }

    // ---- shutdown ----------------------------------------------------------------------------

    /**
     * Closes every replica and model, then every backend, and forgets the data: what the executor
     * plugin calls when the executor stops. A later task starts afresh.
     */
    public static void closeAll() {
        List<AutoCloseable> order = new ArrayList<>();
        synchronized (ExecutorResources.class) {
            REPLICAS.values().forEach(order::addAll);
            REPLICAS.clear();
            for (CachedModel m : MODELS.values()) {
                if (m.users == 0) {
                    order.add(m.model);
                } else {
                    m.evicted = true; // its last user closes it
                }
            }
            MODELS.clear();
            List<SharedBackend> backends = new ArrayList<>(BACKENDS.values());
            for (int i = backends.size() - 1; i >= 0; i--) {
                order.add(backends.get(i).backend());
            }
            backendsClosed += backends.size();
            BACKENDS.clear();
        }
        synchronized (DATA) {
            DATA.clear();
        }
        RuntimeException failure = null;
        for (AutoCloseable c : order) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "receptive-spark: closing " + c + " failed: " + e.getMessage());
                if (failure == null) {
                    failure = new IllegalStateException("receptive-spark: closing executor resources failed", e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
