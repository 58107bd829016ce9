package dev.receptive.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.data.Normalization;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.Graph;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.Tanh;
import dev.receptive.testing.OldFiles;
import dev.receptive.testing.TestBackends;
import dev.receptive.train.LockHolder;
import dev.receptive.train.Metrics;
import dev.receptive.train.RunFolder;
import dev.receptive.train.StepMetrics;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/**
 * The findings through the command line, each refused or handled now and accepted (or
 * mishandled) before: damaged files, a non-finite evaluation, a shared run folder, a resume that
 * said "model saved" without a model, settings out of range or ignored, a thread count beyond the
 * machine, inputs beyond the heap, a deep graph, and messages that were not Receptive's.
 */
class IntegrityCliTest {
    private static final String TINY = "{\"input\":[1,28,28],\"seed\":3,\"layers\":[{\"type\":\"Flatten\"},"
            + "{\"type\":\"Dense\",\"units\":10,\"bias\":true,\"init\":\"xavier\"}]}";

    @TempDir
    static Path dir;
    private static Path data;
    private static Path tiny;
    private static Path run;
    private static Path image;

    @BeforeAll
    static void trainOnce() throws IOException {
        data = FixtureData.folder(dir);
        tiny = Files.writeString(dir.resolve("tiny.json"), TINY);
        run = dir.resolve("run");
        CliRun r = train("--model", tiny.toString(), "--limit", "256", "--epochs", "1", "--out", run.toString());
        assertEquals(0, r.code(), r.toString());
        image = dir.resolve("digit.png");
        BufferedImage gray = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < 784; i++) {
            gray.getRaster().setSample(i % 28, i / 28, 0, (i * 7) % 256);
        }
        ImageIO.write(gray, "png", image.toFile());
    }

    private static CliRun train(String... args) {
        List<String> all = new ArrayList<>(List.of("train", "--dataset", "fashion-mnist", "--data", data.toString(),
                "--backend", "cpu"));
        all.addAll(List.of(args));
        return CliRun.of(all.toArray(String[]::new));
    }

    /** A copy of {@code file} with one bit flipped at {@code fromEnd} bytes before its end (in the last tensor). */
    private static Path flipped(Path file, int fromEnd, int bit) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - fromEnd] ^= (byte) (1 << bit);
        return Files.write(dir.resolve("flipped-" + fromEnd + "-" + bit + "-" + file.getFileName()), bytes);
    }

    @Test
    void aFlippedBitIsRefusedByEveryCommandNamingTheTensor() throws IOException {
        Path model = run.resolve(RunFolder.MODEL);
        // The last tensor is 1.bias (10 floats): its last byte holds the sign and the exponent's top bits.
        for (int bit : new int[] {6, 7}) {
            Path damaged = flipped(model, 1, bit);
            for (String[] command : new String[][] {{"predict", damaged.toString(), image.toString()},
                {"evaluate", damaged.toString(), "--data", data.toString()}, {"info", damaged.toString()}}) {
                CliRun r = CliRun.of(command);
                assertEquals(2, r.code(), String.join(" ", command) + ": " + r);
                assertEquals(1, r.errLines().size(), r.toString());
                assertTrue(r.err().contains(damaged + ": tensor '1.bias' does not match its checksum"), r.toString());
            }
        }
        Path checkpoint = flipped(run.resolve(RunFolder.CHECKPOINT), 1, 6);
        CliRun resume = train("--resume", checkpoint.toString(), "--epochs", "2", "--limit", "256", "--out",
                dir.resolve("from-damaged").toString());
        assertEquals(2, resume.code(), resume.toString());
        assertTrue(resume.err().contains("does not match its checksum"), resume.toString());
    }

    @Test
    void aModelFileWithoutChecksumsLoadsWithOneNoticeLine() throws Exception {
        Path old = OldFiles.withoutChecksums(run.resolve(RunFolder.MODEL));
        CliRun r = ChildJvm.run(dir, List.of(), Map.of(), 60, "info", old.toString());
        assertEquals(0, r.code(), r.toString());
        assertEquals(List.of("receptive: WARNING: " + old + ": the model file has no checksums (written by another tool"
                + " or an older Receptive), so damage to its weights cannot be detected; saving it again adds them"),
                r.errLines());
    }

    @Test
    void evaluateRefusesNonFiniteOutputsAsPredictDoes() throws IOException {
        Path huge = dir.resolve("huge.safetensors");
        try (Backend cpu = TestBackends.cpu(1);
                Model net = Sequential.builder().input(1, 28, 28).add(new Flatten())
                        .add(Dense.builder().units(10).build()).seed(3).build(cpu)) {
            Map<String, HostTensor> state = net.stateDict();
            float[] w = state.get("1.weight").data();
            for (int i = 0; i < w.length; i++) {
                w[i] = (i % 3 - 1) * 3e38f; // finite weights whose sums overflow float32
            }
            net.loadStateDict(state);
            net.setInfo(new ModelInfo(Normalization.FASHION_MNIST, List.of()));
            ModelFile.save(huge, net, Map.of(ModelMetadata.DATASET, "fashion-mnist"));
        }
        CliRun evaluate = CliRun.of("evaluate", huge.toString(), "--data", data.toString(), "--backend", "cpu");
        assertEquals(1, evaluate.code(), evaluate.toString());
        List<String> err = evaluate.errLines();
        assertTrue(err.get(err.size() - 1).startsWith("receptive evaluate: " + huge + ": the model's outputs on"
                + " fashion-mnist are not finite numbers (mean loss NaN)"), evaluate.toString());
        assertTrue(!evaluate.out().contains("accuracy="), evaluate.toString());
        CliRun predict = CliRun.of("predict", huge.toString(), image.toString(), "--backend", "cpu");
        assertEquals(1, predict.code(), predict.toString());
    }

    @Test
    void aSecondRunOnAFolderInUseIsRefusedNamingTheHolder() throws Exception {
        Path busy = dir.resolve("busy");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), LockHolder.class.getName(), busy.toString());
        Process holder = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked", lines.readLine());
            CliRun r = train("--model", tiny.toString(), "--limit", "256", "--epochs", "1", "--out", busy.toString());
            assertEquals(1, r.code(), r.toString());
            assertEquals(List.of("receptive train: --out " + busy + ": the run folder is in use by process "
                    + holder.pid() + "; give this run another folder, or wait until that one ends"), r.errLines());
            assertTrue(!Files.exists(busy.resolve(RunFolder.CHECKPOINT)));
        } finally {
            holder.destroyForcibly();
            assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
        }
        // The holder died without releasing: its lock is taken over.
        CliRun after = train("--model", tiny.toString(), "--limit", "256", "--epochs", "1", "--out", busy.toString());
        assertEquals(0, after.code(), after.toString());
    }

    @Test
    void aResumeWithNothingLeftIntoANewFolderSavesTheModelItSays() throws IOException {
        Path fresh = dir.resolve("fresh");
        CliRun r = train("--resume", run.resolve(RunFolder.CHECKPOINT).toString(), "--epochs", "1", "--limit", "256",
                "--out", fresh.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("model saved to " + fresh.resolve(RunFolder.MODEL) + " (epoch 1,"), r.toString());
        Map<String, HostTensor> saved = ModelFile.read(fresh.resolve(RunFolder.MODEL)).model().state();
        Map<String, HostTensor> original = ModelFile.read(run.resolve(RunFolder.MODEL)).model().state();
        assertEquals(original.keySet(), saved.keySet());
        original.forEach((name, t) -> assertArrayEquals(t.data(), saved.get(name).data(), name));
    }

    @Test
    void settingsOutOfRangeAndOptionsThatWouldBeIgnoredAreBadUsage() throws IOException {
        String checkpoint = run.resolve(RunFolder.CHECKPOINT).toString();
        Object[][] cases = {
            {new String[] {"--lr", "1e-50"}, "--lr must be a number from 1.0E-10 to 100.0, got 1.0E-50"},
            {new String[] {"--weight-decay", "1e-50"}, "--weight-decay must be 0 or a number from 1.0E-10"},
            {new String[] {"--augment", "crop", "--crop-padding", "1000"}, "--crop-padding must be from 1 to 14"},
            {new String[] {"--optimizer", "sgd", "--momentum", "NaN"}, "--momentum must be in [0, 1), got NaN"},
            {new String[] {"--momentum", "0.5"}, "--momentum applies to --optimizer sgd only"},
            {new String[] {"--warmup", "0.5"}, "--warmup applies to --schedule warmup-cosine only"},
            {new String[] {"--crop-padding", "3"}, "--crop-padding applies to --augment crop"},
            {new String[] {"--val-split", "0.1"}, "--val-split applies to --dataset folder:PATH only"},
            {new String[] {"--allow-changed-settings"}, "--allow-changed-settings applies to --resume only"},
            {new String[] {"--epochs", "0"}, "--epochs must be from 1 to 100000"},
            {new String[] {"--model", "seednet", "--resume", checkpoint}, "--model and --resume conflict"},
            {new String[] {"--model", image.toString()}, "--model " + image + " is not UTF-8 text, so not an"
                    + " architecture JSON file (an image or other binary file?)"},
        };
        for (Object[] c : cases) {
            String[] args = (String[]) c[0];
            CliRun r = train(concat(args, "--limit", "256", "--out", dir.resolve("never").toString()));
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r);
            assertEquals(1, r.errLines().size(), r.toString());
            assertTrue(r.err().contains((String) c[1]), String.join(" ", args) + ": " + r);
        }
        assertTrue(!Files.exists(dir.resolve("never").resolve(RunFolder.CHECKPOINT)));
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void aThreadCountBeyondTheMachineIsRefusedBeforeAnyWork() throws Exception {
        CliRun r = ChildJvm.run(dir, List.of(), Map.of("RECEPTIVE_THREADS", "100000"), 60, "predict",
                run.resolve(RunFolder.MODEL).toString(), image.toString(), "--backend", "cpu");
        assertEquals(2, r.code(), r.toString());
        // Before it, at most the one line saying which CPU kernels run (the child has no Vector API module).
        List<String> err = r.errLines();
        assertTrue(err.size() <= 2 && err.get(err.size() - 1).startsWith("receptive predict: RECEPTIVE_THREADS must be"
                + " from 1 to " + 4 * Runtime.getRuntime().availableProcessors()), r.toString());
    }

    /**
     * 1,200 images of 96 x 96 (hard links to one PNG) in a 48 MB heap: predict held all their
     * inputs at once (1,200 x 9,216 floats, 44 MB) and ran out of memory, evaluate refused the
     * folder as too large for the heap; both now read a part at a time.
     */
    @Test
    void predictAndEvaluateReadAnyNumberOfImagesInBoundedMemory() throws Exception {
        Path folder = dir.resolve("many");
        Path a = Files.createDirectories(folder.resolve("a"));
        Path b = Files.createDirectories(folder.resolve("b"));
        BufferedImage large = new BufferedImage(96, 96, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < 96 * 96; i++) {
            large.getRaster().setSample(i % 96, i / 96, 0, (i * 13) % 256);
        }
        ImageIO.write(large, "png", a.resolve("0000.png").toFile());
        for (int i = 1; i < 1_200; i++) {
            Files.createLink((i % 2 == 0 ? a : b).resolve(String.format("%04d.png", i)), a.resolve("0000.png"));
        }
        Path model = dir.resolve("folder-model.safetensors");
        try (Backend cpu = TestBackends.cpu(1);
                Model net = Sequential.builder().input(1, 96, 96).add(new Flatten())
                        .add(Dense.builder().units(2).build()).seed(3).build(cpu)) {
            net.setInfo(new ModelInfo(new Normalization(0.5, 0.25), List.of("a", "b")));
            ModelFile.save(model, net, Map.of(ModelMetadata.DATASET, FolderData.id(folder)));
        }
        List<String> heap = List.of("-Xmx48m");
        CliRun predict = ChildJvm.run(dir, heap, Map.of(), 240, "predict", model.toString(), "--dataset",
                "folder:" + folder, "--backend", "cpu");
        assertEquals(0, predict.code(), predict.err());
        assertEquals(1_200, predict.outLines().size());
        assertEquals(1, predict.outLines().stream().map(l -> l.substring(l.indexOf('\t'))).distinct().count(),
                "one image, one answer");
        CliRun evaluate = ChildJvm.run(dir, heap, Map.of(), 240, "evaluate", model.toString(), "--backend", "cpu");
        assertEquals(0, evaluate.code(), evaluate.err());
        assertTrue(evaluate.lastOutLine().startsWith("accuracy=0.5000 "), evaluate.out());
    }

    /**
     * 6,000 chained nodes (about 300 KB of JSON) through every command that reads a model:
     * planning recursed and overflowed the stack at about 5,000. Items of 4 x 4, so that the
     * 6,000 activations of a batch stay small.
     */
    @Test
    void aDeepChainOfNodesWorksThroughInfoPredictAndTrain() throws IOException {
        int n = 6_000;
        Graph.Builder g = Graph.builder().input(1, 4, 4);
        for (int i = 0; i < n; i++) {
            g.add("n" + i, i % 2 == 0 ? new ReLU() : new Tanh(), i == 0 ? Model.INPUT : "n" + (i - 1));
        }
        g.add("flat", new Flatten(), "n" + (n - 1)).add("out", Dense.builder().units(3).build(), "flat");
        Path json = dir.resolve("deep.json");
        Path model = dir.resolve("deep.safetensors");
        Path images = Path.of("test-data", "image-folder").toAbsolutePath();
        try (Backend cpu = TestBackends.cpu(1); Model net = g.output("out").build(cpu)) {
            Files.writeString(json, net.architecture());
            net.setInfo(new ModelInfo(new Normalization(0.5, 0.25), List.of("bag", "sneaker", "trouser")));
            ModelFile.save(model, net, Map.of(ModelMetadata.DATASET, FolderData.id(images)));
        }
        assertTrue(Files.size(json) > 150_000, "larger than the issue's file");
        CliRun info = CliRun.of("info", model.toString());
        assertEquals(0, info.code(), info.toString());
        assertTrue(info.out().contains("n5999"), "the summary lists every node");
        CliRun predict = CliRun.of("predict", model.toString(), image.toString(), "--backend", "cpu");
        assertEquals(0, predict.code(), predict.toString());
        assertEquals(1, predict.outLines().size(), predict.toString());
        CliRun trained = CliRun.of("train", "--model", json.toString(), "--dataset", "folder:" + images, "--epochs", "1",
                "--batch", "8", "--out", dir.resolve("deep-run").toString(), "--backend", "cpu");
        assertEquals(0, trained.code(), trained.toString());
    }

    /**
     * A diverging run ended with the chart library's "Series data ... cannot be equal to
     * Double.POSITIVE_INFINITY": curves now draw finite points only, and a message made outside
     * Receptive comes after Receptive's words of what was being done.
     */
    @Test
    void noThirdPartyMessageStandsAlone() throws IOException {
        XYChart infinite = new XYChartBuilder().width(200).height(100).build();
        infinite.addSeries("loss", new double[] {1, 2}, new double[] {0.5, Double.POSITIVE_INFINITY});
        BufferedImage canvas = new BufferedImage(200, 100, BufferedImage.TYPE_INT_RGB);
        IllegalArgumentException chart = assertThrows(IllegalArgumentException.class,
                () -> infinite.paint(canvas.createGraphics(), 200, 100));
        Activity.set("drawing the curves");
        String line = Main.message(chart);
        assertTrue(line.startsWith("failed while drawing the curves: ") && line.endsWith("(java.lang.IllegalArgumentException)"),
                line);
        assertEquals("the run folder is busy", Main.message(new IllegalStateException("the run folder is busy")),
                "Receptive's own messages stand as they are");
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        Curves.writePng(List.of(new Metrics(1, 2.0, 0.1, Double.POSITIVE_INFINITY, 0.1, 1e-3, 1, 1, 0),
                new Metrics(2, Double.NaN, 0.1, Double.NaN, 0.1, 1e-3, 1, 1, 0)),
                List.of(new StepMetrics(1, 1, Float.POSITIVE_INFINITY, 0.1, 1e-3)), png);
        assertTrue(png.size() > 0);
    }
}
