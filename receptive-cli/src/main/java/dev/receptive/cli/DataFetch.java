package dev.receptive.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.List;

/**
 * Makes sure a dataset is on disk: when files are missing it runs the scripts/fetch-datasets.sh
 * of the checkout this command line was built in (receptive-cli/target/receptive.jar →
 * scripts/), never one found through the current folder, with its output sent to stderr so
 * stdout keeps only results.
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
        // bash itself from a fixed place where there is one: a PATH holding "." would find ./bash.
        String bash = Files.isExecutable(Path.of("/bin/bash")) ? "/bin/bash" : "bash";
        ProcessBuilder pb = new ProcessBuilder(bash, script.toString()).redirectErrorStream(true);
        pb.directory(script.getParent().getParent().toFile()); // the checkout, not wherever the user is
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
            throw new IOException(script + " was interrupted", e);
        }
        missing = dataset.missingFiles(dataRoot);
        if (code != 0 || !missing.isEmpty()) {
            throw new IOException(script + " exited with " + code + " and " + folder + " still lacks "
                    + String.join(", ", missing) + "; see its output above");
        }
    }

    /** The script shipped with this copy of Receptive, or null (see {@link #shippedScript(Path)}). */
    private static Path findScript() {
        CodeSource source = DataFetch.class.getProtectionDomain().getCodeSource();
        if (source == null) {
            return null;
        }
        try {
            return shippedScript(Path.of(source.getLocation().toURI()));
        } catch (URISyntaxException | IllegalArgumentException | IOException e) {
            return null; // not a file location: nothing is shipped beside it
        }
    }

    /**
     * The fetch script of the checkout that built this command line: the code is
     * ROOT/receptive-cli/target/receptive.jar (or ROOT/receptive-cli/target/classes) and the
     * script ROOT/scripts/fetch-datasets.sh. Never a script found through the current folder or
     * beside a jar copied elsewhere: a folder a user merely runs in could plant code that way.
     *
     * @param code where this class was loaded from, a jar or a classes folder
     * @return the script's real path, or null when the code does not sit in a checkout
     */
    static Path shippedScript(Path code) throws IOException {
        Path target = code.toRealPath().getParent();
        if (target == null || !target.getFileName().toString().equals("target")) {
            return null;
        }
        Path module = target.getParent();
        if (module == null || !module.getFileName().toString().equals("receptive-cli") || module.getParent() == null) {
            return null;
        }
        Path script = module.getParent().resolve(SCRIPT);
        return Files.isRegularFile(script) ? script.toRealPath() : null;
    }
}
