package dev.receptive.train;

import dev.receptive.io.ModelFile;
import dev.receptive.io.internal.AtomicFiles;
import dev.receptive.nn.ModelInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A training run's folder, rewritten after every epoch, each file atomically:
 * <ul>
 *   <li>{@value #CHECKPOINT}: the latest {@link Checkpoint}, with the best epoch's weights when
 *       that was an earlier epoch</li>
 *   <li>{@value #MODEL}: the model file of the best epoch so far by validation accuracy (of the
 *       last epoch without validation), written again from the checkpoint by a resume whose
 *       folder lacks it</li>
 *   <li>{@value #METRICS}: a row per window of steps (the smoothed training loss) and a row per
 *       epoch ({@link #METRICS_HEADER})</li>
 *   <li>{@value #CONFUSION}: the last validation's confusion matrix, when there is validation</li>
 *   <li>{@value #LOCK}: the lock a training run holds on the folder while it runs, with its
 *       process id; another run given the same folder is refused, naming that process. The lock
 *       is the operating system's, so a process that dies releases it, and the next run takes the
 *       folder over.</li>
 * </ul>
 */
public final class RunFolder {
    /** The metrics file's name. */
    public static final String METRICS = "metrics.csv";
    /** The confusion matrix file's name. */
    public static final String CONFUSION = "confusion.csv";
    /** The checkpoint file's name. */
    public static final String CHECKPOINT = "checkpoint.safetensors";
    /** The model file's name. */
    public static final String MODEL = "model.safetensors";
    /** The lock file's name. */
    public static final String LOCK = ".lock";
    /**
     * The metrics file's header: {@code kind} is "step" for a window of steps (its smoothed
     * training loss and accuracy, the other figures empty) or "epoch" for an epoch's figures.
     */
    public static final String METRICS_HEADER =
            "kind,epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,images_per_s,data_seconds";

    private static final System.Logger LOG = System.getLogger(RunFolder.class.getName());
    /**
     * The lock files this JVM holds, by real path. Closing any channel of a file releases every
     * lock the process holds on it, so a file held here is never opened a second time.
     */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path dir;
    /** The epoch whose weights this object last wrote to {@value #MODEL}; 0 before it wrote any. */
    private int modelEpoch;

    /**
     * The run folder at {@code dir}; nothing is made until training starts.
     *
     * @param dir the folder, which need not exist yet
     */
    public RunFolder(Path dir) {
        this.dir = dir;
    }

    /** {@return the folder} */
    public Path dir() {
        return dir;
    }

    /** {@return the checkpoint's path in the folder} */
    public Path checkpoint() {
        return dir.resolve(CHECKPOINT);
    }

    /**
     * Who holds the lock of the run folder at {@code dir}, without taking it: for refusing a
     * second run early, before it loads its data.
     *
     * @param dir a run folder, which need not exist
     * @return "process 1234" (or "this process") while a live process holds the lock, else null
     */
    public static String holder(Path dir) {
        Path file = dir.resolve(LOCK);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            if (HELD.contains(file.toRealPath())) {
                return "this process (" + ProcessHandle.current().pid() + ")";
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                FileLock lock = channel.tryLock();
                if (lock != null) {
                    lock.release();
                    return null;
                }
                return holderOf(channel);
            }
        } catch (IOException | OverlappingFileLockException e) {
            return null; // unreadable or unlockable: the lock taken before training reports it
        }
    }

    /**
     * Takes the folder for one training run: makes it, refuses it when another live process (or
     * another run in this one) holds its lock, and writes this process's id into the lock file.
     * Making the lock file is also the check that the folder can be written, before any training.
     *
     * @return the lock, held until closed
     * @throws IOException naming the folder: it is a file, cannot be made or written, or another run holds it
     *     (naming that run's process)
     */
    Lock lock() throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IOException(dir + ": the run folder is a file, not a folder");
        }
        Path file = dir.resolve(LOCK);
        Path key;
        FileChannel channel;
        try {
            Files.createDirectories(dir);
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            key = file.toRealPath();
        } catch (IOException e) {
            throw new IOException(dir + ": cannot write the run folder there: " + e.getMessage(), e);
        }
        if (!HELD.add(key)) {
            channel.close(); // a channel of a file this JVM does not lock: closing it releases nothing
            throw inUse("another training run of this process (" + ProcessHandle.current().pid() + ")");
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: the file system does not lock files ({1}), so another run"
                    + " given this folder would not be refused", dir, e.getMessage());
            return new Lock(key, channel, null);
        }
        try {
            if (lock == null) {
                throw inUse(holderOf(channel));
            }
            String previous = content(channel).trim();
            String pid = Long.toString(ProcessHandle.current().pid());
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((pid + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            channel.force(true);
            if (!previous.isEmpty() && !previous.equals(pid)) {
                LOG.log(System.Logger.Level.INFO, "{0}: took over the lock of process {1}, which has ended", dir, previous);
            }
            return new Lock(key, channel, lock);
        } catch (IOException e) {
            HELD.remove(key);
            try {
                channel.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw String.valueOf(e.getMessage()).startsWith(dir + ": the run folder is in use") ? e
                    : new IOException(dir + ": cannot write the run folder's lock: " + e.getMessage(), e);
        }
    }

    private IOException inUse(String who) {
        return new IOException(dir + ": the run folder is in use by " + who + "; give this run another folder, or"
                + " wait until that one ends");
    }

    private static String holderOf(FileChannel channel) throws IOException {
        String pid = content(channel).trim();
        return pid.matches("[0-9]{1,19}") ? "process " + pid : "another process";
    }

    /** The lock file's first bytes: a process id and a line break. */
    private static String content(FileChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(32);
        channel.read(buffer, 0);
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
    }

    /** The run's hold on the folder: closing it empties the lock file and releases the lock. */
    static final class Lock implements AutoCloseable {
        private final Path key;
        private final FileChannel channel;
        private final FileLock lock;

        private Lock(Path key, FileChannel channel, FileLock lock) {
            this.key = key;
            this.channel = channel;
            this.lock = lock;
        }

        @Override
        public void close() throws IOException {
            try {
                // Emptied, not deleted: a run that opened the file just now must lock the file others see.
                channel.truncate(0);
                if (lock != null) {
                    lock.release();
                }
            } finally {
                channel.close();
                HELD.remove(key);
            }
        }
    }

    /**
     * Writes the checkpoint first (once it is on disk, the epoch is safe, and so are the best
     * epoch's weights it carries, even if a later file fails), then the model file when the best
     * epoch is not the one it holds, the metrics and the confusion matrix.
     */
    void writeEpoch(Checkpoint checkpoint, Evaluation validation, ModelInfo info, Map<String, String> extra)
            throws IOException {
        Files.createDirectories(dir);
        checkpoint.write(checkpoint());
        writeModel(checkpoint.best(), info, extra);
        AtomicFiles.write(dir.resolve(METRICS), out -> out.write(metricsCsv(checkpoint.history(), checkpoint.steps())
                .getBytes(StandardCharsets.UTF_8)));
        if (validation != null) {
            AtomicFiles.write(dir.resolve(CONFUSION),
                    out -> out.write(validation.confusionCsv().getBytes(StandardCharsets.UTF_8)));
        }
    }

    /**
     * Writes the best epoch's model file unless this object already wrote that epoch's: after a
     * new best epoch, and on the first write of a resumed run (its folder may be new, or may have
     * lost the file to a failed write).
     *
     * @param best the best epoch and its weights, or null when unknown (nothing is written)
     */
    void writeModel(Checkpoint.Best best, ModelInfo info, Map<String, String> extra) throws IOException {
        if (best != null && best.epoch() != modelEpoch) {
            Files.createDirectories(dir);
            ModelFile.save(dir.resolve(MODEL), best.model().withInfo(info), extra);
            modelEpoch = best.epoch();
        }
    }

    /** Step rows and epoch rows in the order they happened, under {@link #METRICS_HEADER}. */
    static String metricsCsv(List<Metrics> epochs, List<StepMetrics> steps) {
        StringBuilder sb = new StringBuilder(METRICS_HEADER).append('\n');
        int s = 0;
        for (Metrics m : epochs) {
            int lastStep = 0;
            while (s < steps.size() && steps.get(s).epoch() <= m.epoch()) {
                StepMetrics w = steps.get(s++);
                lastStep = w.step();
                sb.append(String.format(Locale.ROOT, "step,%d,%d,%.6g,%.6g,,,%.6g,,,%n", w.epoch(), w.step(), w.loss(),
                        w.accuracy(), w.lr()));
            }
            String row = m.csvRow(); // epoch,train_loss,...,data_seconds
            int comma = row.indexOf(',');
            sb.append("epoch,").append(m.epoch()).append(',').append(lastStep == 0 ? "" : Integer.toString(lastStep))
                    .append(row.substring(comma)).append('\n');
        }
        return sb.toString();
    }
}
