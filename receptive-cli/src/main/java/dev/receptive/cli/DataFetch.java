package dev.receptive.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes sure a dataset is on disk: when files are missing it runs scripts/fetch-datasets.sh,
 * found beside the current folder or the jar (receptive-cli/target/receptive.jar → scripts/), with its output
 * sent to stderr so stdout keeps only results.
 */
final class DataFetch {
    private static final String SCRIPT = "scripts/fetch-datasets.sh";

    private DataFetch() {
    }

    static void ensure(DatasetChoice dataset, Path dataRoot, PrintStream err) throws IOException {
        List<String> missing = dataset.missingFiles(dataRoot);
        if (missing.isEmpty()) {
            return;
        }
        Path folder = dataset.folder(dataRoot);
        Path script = findScript();
        if (script == null) {
            throw new UsageException(folder + " lacks " + String.join(", ", missing) + "; fetch them with 'RECEPTIVE_DATA="
                    + dataRoot.toAbsolutePath() + " " + SCRIPT + "' in a Receptive checkout, or put the IDX files (raw or"
                    + " .gz) there");
        }
        err.println("receptive: " + folder + " lacks " + missing.size() + " files; running " + script);
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true);
        pb.environment().put("RECEPTIVE_DATA", dataRoot.toAbsolutePath().toString());
        Process p = pb.start();
        try (InputStream out = p.getInputStream()) {
            out.transferTo(err);
        }
        int code;
        try {
            code = p.waitFor();
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new IOException(SCRIPT + " was interrupted", e);
        }
        missing = dataset.missingFiles(dataRoot);
        if (code != 0 || !missing.isEmpty()) {
            throw new IOException(SCRIPT + " exited with " + code + " and " + folder + " still lacks "
                    + String.join(", ", missing) + "; see its output above");
        }
    }

    /** The script relative to the current folder, else to the jar's folder or its parent. */
    private static Path findScript() {
        List<Path> candidates = new ArrayList<>();
        candidates.add(Path.of(SCRIPT));
        CodeSource source = DataFetch.class.getProtectionDomain().getCodeSource();
        if (source != null) {
            try {
                Path jar = Path.of(source.getLocation().toURI());
                Path dir = Files.isDirectory(jar) ? jar : jar.getParent();
                for (Path d = dir; d != null && candidates.size() < 4; d = d.getParent()) {
                    candidates.add(d.resolve(SCRIPT));
                }
            } catch (URISyntaxException | IllegalArgumentException e) {
                // Not a file location: only the current folder is tried.
            }
        }
        for (Path c : candidates) {
            if (Files.isRegularFile(c)) {
                return c;
            }
        }
        return null;
    }
}
