package dev.receptive.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Missing data is fetched only by the script shipped with Receptive, never by one found in the current folder. */
class DataFetchTest {
    @TempDir
    Path dir;

    @Test
    void aScriptPlantedInTheCurrentFolderIsNeverRun() throws Exception {
        Path planted = Files.createDirectories(dir.resolve("scripts")).resolve("fetch-datasets.sh");
        Path marker = dir.resolve("planted-script-ran");
        Files.writeString(planted, "#!/usr/bin/env bash\n: > '" + marker + "'\n"); // a builtin: PATH is bare below
        // A PATH with bash alone: the shipped script stops at once ("needs 'npm' on the PATH")
        // instead of downloading anything.
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.createSymbolicLink(bin.resolve("bash"), Path.of("/bin/bash").toRealPath());
        Path empty = Files.createDirectories(dir.resolve("no-data"));
        CliRun r = ChildJvm.run(dir, List.of(), Map.of("PATH", bin.toString()), 60,
                "train", "--data", empty.toString(), "--epochs", "1", "--backend", "cpu");
        assertFalse(Files.exists(marker), "the planted script ran: " + r);
        assertEquals(1, r.code(), r.toString());
        Path shipped = Path.of("scripts", "fetch-datasets.sh").toRealPath();
        assertTrue(r.err().contains("running " + shipped), r.toString());
    }

    @Test
    void onlyTheScriptBesideTheJarOfACheckoutIsShipped() throws Exception {
        Path root = dir.resolve("checkout");
        Path script = Files.createDirectories(root.resolve("scripts")).resolve("fetch-datasets.sh");
        Files.writeString(script, "#!/usr/bin/env bash\n");
        Path jar = Files.createDirectories(root.resolve("receptive-cli").resolve("target")).resolve("receptive.jar");
        Files.write(jar, new byte[0]);
        Path classes = Files.createDirectories(root.resolve("receptive-cli").resolve("target").resolve("classes"));
        assertEquals(script.toRealPath(), DataFetch.shippedScript(jar));
        assertEquals(script.toRealPath(), DataFetch.shippedScript(classes));
        // A jar anywhere else (copied to Downloads, in /opt) has no script beside it that we trust.
        Path loose = Files.write(Files.createDirectories(dir.resolve("Downloads")).resolve("receptive.jar"), new byte[0]);
        Files.createDirectories(dir.resolve("scripts"));
        Files.writeString(dir.resolve("scripts").resolve("fetch-datasets.sh"), "#!/usr/bin/env bash\n");
        assertEquals(null, DataFetch.shippedScript(loose));
    }
}
