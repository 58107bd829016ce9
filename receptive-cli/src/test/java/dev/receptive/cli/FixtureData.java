package dev.receptive.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** A data folder laid out like the real one (fashion-mnist/ with the four IDX files), holding the fixtures. */
final class FixtureData {
    private FixtureData() {
    }

    /**
     * Copies test-data's 2,000 training and 1,000 test Fashion-MNIST images into
     * {@code dir}/data/fashion-mnist and returns {@code dir}/data, for --data.
     */
    static Path folder(Path dir) throws IOException {
        Path data = dir.resolve("data");
        Path fashion = Files.createDirectories(data.resolve("fashion-mnist"));
        for (String fixture : new String[] {"fashion-mnist-2k-train", "fashion-mnist-1k"}) {
            try (Stream<Path> files = Files.list(Path.of("test-data", fixture).toAbsolutePath())) {
                for (Path f : files.toList()) {
                    Files.copy(f, fashion.resolve(f.getFileName()));
                }
            }
        }
        return data;
    }
}
