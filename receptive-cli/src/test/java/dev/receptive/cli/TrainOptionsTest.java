package dev.receptive.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.train.Checkpoint;
import dev.receptive.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train's model and optimization options reach the trainer, and bad values are bad usage. */
class TrainOptionsTest {
    @TempDir
    static Path dir;
    private static Path data;

    @BeforeAll
    static void fixtures() throws IOException {
        data = FixtureData.folder(dir);
    }

    private CliRun train(String out, String... more) {
        String[] base = {"train", "--dataset", "fashion-mnist", "--data", data.toString(), "--backend", "cpu", "--limit",
            "64", "--batch", "32", "--epochs", "2", "--out", dir.resolve(out).toString()};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return CliRun.of(all);
    }

    @Test
    void aResNetWithEveryOptionTrainsAndTheCheckpointRecordsThem() throws IOException {
        CliRun r = train("resnet", "--model", "resnet8", "--optimizer", "adamw", "--weight-decay", "0.05", "--schedule",
                "warmup-cosine", "--warmup", "0.5", "--label-smoothing", "0.1", "--augment", "crop+flip",
                "--accumulate", "2", "--early-stopping", "5");
        assertEquals(0, r.code(), r.toString());
        Checkpoint c = Checkpoint.read(dir.resolve("resnet").resolve(RunFolder.CHECKPOINT));
        Map<String, String> s = c.settings();
        assertEquals("Adam(betas=(0.9, 0.999), eps=1.0E-8, weight_decay=0.05, decoupled)", s.get("optimizer"));
        assertEquals("warmupCosine(0.5, 2, 0.0)", s.get("schedule"));
        assertEquals("softmaxCrossEntropy(labelSmoothing=0.1)", s.get("loss"));
        assertEquals("crop(2)+flip", s.get("augmentation"));
        assertEquals("2", s.get("accumulation_steps"));
        assertTrue(c.model().architecture().contains("\"name\":\"layer2.0.shortcut.0\""), c.model().architecture());
        assertTrue(Files.isRegularFile(dir.resolve("resnet").resolve(RunFolder.MODEL)));
    }

    @Test
    void anArchitectureFileIsAModel() throws IOException {
        Path json = dir.resolve("tiny.json");
        Files.writeString(json, "{\"input\":[1,28,28],\"seed\":4,\"layers\":[{\"type\":\"Flatten\"},"
                + "{\"type\":\"Dense\",\"units\":10,\"bias\":true,\"init\":\"xavier\"}]}");
        CliRun r = train("json", "--model", json.toString());
        assertEquals(0, r.code(), r.toString());
        CliRun bad = train("bad", "--model", dir.resolve("missing.json").toString());
        assertEquals(2, bad.code(), bad.toString());
        assertTrue(bad.err().contains("--model must be seednet, resnet8, resnet14, resnet20 or an architecture JSON"),
                bad.toString());
        Files.writeString(json, "{\"input\":[1,28,28],\"seed\":4,\"layers\":[{\"type\":\"Dense\",\"units\":10,"
                + "\"bias\":true,\"init\":\"xavier\"}]}");
        CliRun misfit = train("misfit", "--model", json.toString());
        assertEquals(2, misfit.code(), misfit.toString());
        assertTrue(misfit.err().contains("layer 0 (Dense)") && misfit.err().contains("Flatten"), misfit.toString());
    }

    @Test
    void badOptionValuesAreBadUsage() {
        String[][] cases = {
            {"--optimizer", "lbfgs"}, {"--schedule", "cyclic"}, {"--augment", "rotate"}, {"--label-smoothing", "1"},
            {"--accumulate", "3"}, {"--early-stopping", "0"}, {"--weight-decay", "-1"}, {"--schedule", "warmup-cosine", "--warmup", "5"},
            {"--precision", "fp16"},
        };
        for (String[] c : cases) {
            CliRun r = train("bad-" + c[c.length - 2].substring(2), c);
            assertEquals(2, r.code(), String.join(" ", c) + ": " + r);
            assertEquals(1, r.errLines().size(), r.toString());
            assertTrue(r.err().contains(c[c.length - 2]), r.toString());
        }
    }

    /** tf32 and bf16 change the GPU's math; the CPU computes in fp32 only, so asking it for them is bad usage. */
    @Test
    void aPrecisionOtherThanFp32NeedsTheCudaBackend() {
        for (String mode : new String[] {"tf32", "BF16"}) {
            CliRun r = train("precision-" + mode, "--precision", mode);
            assertEquals(2, r.code(), r.toString());
            assertTrue(r.err().contains("--precision " + mode.toLowerCase(java.util.Locale.ROOT)
                    + " needs the cuda backend; the cpu backend computes in fp32"), r.toString());
        }
        CliRun bench = CliRun.of("bench", "--backend", "cpu", "--precision", "bf16");
        assertEquals(2, bench.code(), bench.toString());
        assertTrue(bench.err().contains("needs the cuda backend"), bench.toString());
        CliRun badBench = CliRun.of("bench", "--backend", "cpu", "--precision", "half");
        assertEquals(2, badBench.code(), badBench.toString());
        assertTrue(badBench.err().contains("--precision must be fp32, tf32 or bf16, got 'half'"), badBench.toString());
        assertEquals(null, System.getProperty("receptive.cuda.precision"), "the engine's property is restored");
    }
}
