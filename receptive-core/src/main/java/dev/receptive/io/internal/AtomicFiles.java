package dev.receptive.io.internal;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Internal, not API (it may change without notice): replaces a file so that a reader, or the file system after a crash, sees either the old
 * content or the complete new one: write a temporary file beside the target, fsync it, rename
 * it over the target, fsync the folder (the rename is durable only once the folder is). A writer
 * killed on the way leaves its temporary file; the next write of the same target removes it.
 */
public final class AtomicFiles {
    /** Writes the new content; may throw, in which case the target is left untouched. */
    @FunctionalInterface
    public interface Writer {
        /**
         * Writes the whole new content.
         *
         * @param out a buffered stream into the temporary file; closing it only flushes it
         * @throws IOException to abandon the write (the target keeps its old content)
         */
        void write(OutputStream out) throws IOException;
    }

    /**
     * A temp younger than this may belong to a writer that has just created it and not yet
     * locked it; one that old whose lock is free belongs to a writer that died.
     */
    static final long STALE_AFTER_MILLIS = 10_000;

    private AtomicFiles() {
    }

    /**
     * Replaces {@code target} with what {@code writer} writes, atomically, and first removes the temporary files
     * that killed writers of the same target left beside it.
     *
     * @param target the file to replace or create; its folder must exist
     * @param writer writes the new content
     * @throws IOException when the temporary file cannot be made, written, forced or renamed, or the writer
     *     throws; the target is then untouched and the temporary file removed
     */
    public static void write(Path target, Writer writer) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        String name = target.getFileName().toString();
        removeStaleTemps(dir, name);
        Path temp = createTemp(dir, name);
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                // Held while writing, so that another writer's clean-up leaves this file alone.
                lock(channel);
                // A writer that closes its stream must not close the channel before the fsync.
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16) {
                    @Override
                    public void close() throws IOException {
                        flush();
                    }
                };
                writer.write(out);
                out.flush();
                channel.force(true);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        syncFolder(dir);
    }

    private static void lock(FileChannel channel) {
        try {
            channel.tryLock();
        } catch (IOException | OverlappingFileLockException e) {
            // Without locks (some network file systems) the age rule of removeStaleTemps still holds.
        }
    }

    /**
     * Removes what killed writers of {@code name} left in {@code dir}: regular files named
     * ".name.HEX.tmp" (this class's pattern, for this target only) that are not locked by a writer
     * and were not modified in the last {@link #STALE_AFTER_MILLIS}. Never fails the write: a
     * temp that cannot be removed stays for a later write.
     */
    private static void removeStaleTemps(Path dir, String name) {
        Pattern own = Pattern.compile("\\." + Pattern.quote(name) + "\\.[0-9a-f]{1,16}\\.tmp");
        long now = System.currentTimeMillis();
        try (DirectoryStream<Path> siblings = Files.newDirectoryStream(dir,
                p -> own.matcher(p.getFileName().toString()).matches())) {
            for (Path p : siblings) {
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (!a.isRegularFile() || now - a.lastModifiedTime().toMillis() < STALE_AFTER_MILLIS) {
                        continue;
                    }
                    try (FileChannel channel = FileChannel.open(p, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
                            FileLock lock = channel.tryLock()) {
                        if (lock != null) {
                            Files.delete(p);
                        }
                    }
                } catch (IOException | OverlappingFileLockException e) {
                    // In use by a writer of this JVM, gone already, or not ours to open: leave it.
                }
            }
        } catch (IOException | RuntimeException e) {
            // A folder that cannot be listed fails the write below, with a message of its own.
        }
    }

    /**
     * A new, empty file ".name.RANDOM.tmp" in dir. Made with CREATE_NEW rather than
     * Files.createTempFile so that it gets the usual permissions, not owner-only ones.
     */
    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path temp = dir.resolve("." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return temp;
            } catch (FileAlreadyExistsException e) {
                if (attempt == 9) {
                    throw e;
                }
            }
        }
    }

    /** Makes the rename durable where the platform lets a folder be opened and forced (not Windows). */
    private static void syncFolder(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // The new content is in place either way; only its durability across a crash is weaker.
        }
    }
}
