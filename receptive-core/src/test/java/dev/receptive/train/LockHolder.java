package dev.receptive.train;

import java.nio.file.Path;

/**
 * Holds a run folder's lock in a JVM of its own, for {@link RunFolderTest}: prints "locked" once it
 * holds it and keeps it until its standard input closes (or it is killed).
 */
public final class LockHolder {
    private LockHolder() {
    }

    public static void main(String[] args) throws Exception {
        try (RunFolder.Lock lock = new RunFolder(Path.of(args[0])).lock()) {
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait for the parent to close the pipe
            }
        }
    }
}
