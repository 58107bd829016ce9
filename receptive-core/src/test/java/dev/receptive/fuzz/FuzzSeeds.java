package dev.receptive.fuzz;

import dev.receptive.backend.Backend;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Dense;
import dev.receptive.nn.Flatten;
import dev.receptive.nn.Graph;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.MaxPool2d;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.Model;
import dev.receptive.nn.ModelInfo;
import dev.receptive.nn.Sequential;
import dev.receptive.nn.Tanh;
import dev.receptive.nn.optim.OptimizerState;
import dev.receptive.testing.HostileImages;
import dev.receptive.testing.TestBackends;
import dev.receptive.train.Checkpoint;
import dev.receptive.train.Metrics;
import dev.receptive.train.StepMetrics;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Writes the small valid seed inputs of the fuzz tests into
 * src/test/resources/dev/receptive/fuzz/*Inputs/METHOD/ (the folders Jazzer replays in
 * regression mode and starts fuzzing from). Inputs that once broke a reader are committed
 * there by hand, named crash-*. Run from the repository root:
 * {@code java -cp <test classpath> dev.receptive.fuzz.FuzzSeeds}.
 */
public final class FuzzSeeds {
    private static final Path ROOT = Path.of("receptive-core/src/test/resources/dev/receptive/fuzz");

    private FuzzSeeds() {
    }

    public static void main(String[] args) throws IOException {
        idx();
        images();
        models();
    }

    private static void seed(String target, String name, byte[] content) throws IOException {
        Path dir = Files.createDirectories(ROOT.resolve(target));
        Files.write(dir.resolve(name), content);
    }

    static byte[] idx(int[] dims, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {0, 0, 0x08, (byte) dims.length});
        for (int d : dims) {
            out.writeBytes(new byte[] {(byte) (d >>> 24), (byte) (d >>> 16), (byte) (d >>> 8), (byte) d});
        }
        out.writeBytes(data);
        return out.toByteArray();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        }
        return out.toByteArray();
    }

    private static void idx() throws IOException {
        byte[] images = idx(new int[] {3, 2, 2}, new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, (byte) 255});
        byte[] labels = idx(new int[] {3}, new byte[] {0, 9, 4});
        seed("IdxFuzzTestInputs/file", "images", images);
        seed("IdxFuzzTestInputs/file", "labels", labels);
        seed("IdxFuzzTestInputs/file", "images.gz", gzip(images));
        seed("IdxFuzzTestInputs/file", "labels.gz", gzip(labels));
        // Fixed: a gzip stream cut inside its header reported "...: null".
        seed("IdxFuzzTestInputs/file", "crash-gzip-cut-in-header", Arrays.copyOf(gzip(labels), 5));
        // Fixed: a header claiming 2^30 bytes in a small gzip file was decompressed before it was refused.
        seed("IdxFuzzTestInputs/file", "crash-gzip-too-small-for-header",
                gzip(idx(new int[] {1 << 30}, new byte[64])));
        seed("IdxFuzzTestInputs/gzipped", "images", images);
        seed("IdxFuzzTestInputs/gzipped", "labels", labels);
        // dataset: flags (bit 0 gzip images, bit 1 gzip labels), a 2-byte split, images then labels.
        for (int flags = 0; flags < 4; flags++) {
            ByteArrayOutputStream in = new ByteArrayOutputStream();
            in.writeBytes(new byte[] {(byte) flags, 0, (byte) images.length});
            in.writeBytes(images);
            in.writeBytes(labels);
            seed("IdxFuzzTestInputs/dataset", "valid-" + flags, in.toByteArray());
        }
        // Fixed: 2,000 images and 3 labels: the images were read whole before the counts were compared.
        byte[] many = idx(new int[] {2000, 2, 2}, new byte[8000]);
        ByteArrayOutputStream mismatch = new ByteArrayOutputStream();
        byte[] manyGz = gzip(many);
        mismatch.writeBytes(new byte[] {1, (byte) (manyGz.length >> 8), (byte) manyGz.length});
        mismatch.writeBytes(manyGz);
        mismatch.writeBytes(labels);
        seed("IdxFuzzTestInputs/dataset", "crash-count-mismatch", mismatch.toByteArray());
    }

    private static void images() throws IOException {
        BufferedImage gray = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                gray.getRaster().setSample(x, y, 0, (x * 9 + y * 3) % 256);
            }
        }
        BufferedImage rgba = new BufferedImage(12, 9, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 9; y++) {
            for (int x = 0; x < 12; x++) {
                rgba.setRGB(x, y, (x * 20) << 24 | (y * 25) << 16 | (x * 7) << 8 | 200);
            }
        }
        // load and loadBytes start from the same inputs (the crash-* ones copied by hand).
        for (String dir : new String[] {"ImageInputFuzzTestInputs/load", "ImageInputFuzzTestInputs/loadBytes"}) {
            images(dir, gray, rgba);
        }
    }

    private static void images(String dir, BufferedImage gray, BufferedImage rgba) throws IOException {
        for (String format : new String[] {"png", "jpeg", "gif", "bmp"}) {
            seed(dir, "gray." + format, HostileImages.encode(gray, format));
        }
        seed(dir, "rgba.png", HostileImages.encode(rgba, "png"));
        BufferedImage wide = new BufferedImage(40, 10, BufferedImage.TYPE_USHORT_GRAY);
        seed(dir, "gray16.png", HostileImages.encode(wide, "png"));
        // Fixed: 100 s and 5.7 GB for a tiny JPEG claiming 30000x30000; an OutOfMemoryError for the PNG.
        seed(dir, "crash-jpeg-claims-30000x30000", HostileImages.jpegClaiming(30000, 30000));
        seed(dir, "crash-png-claims-40000x40000", HostileImages.pngClaiming(40000, 40000));
        // Fixed: truncated JPEGs were classified although the decoder warned.
        byte[] jpeg = HostileImages.noise("jpeg", 32, 32);
        seed(dir, "crash-jpeg-truncated", Arrays.copyOf(jpeg, jpeg.length * 2 / 3));
        seed(dir, "crash-jpeg-missing-eoi", Arrays.copyOf(jpeg, jpeg.length - 2));
    }

    private static void models() throws IOException {
        Path tmp = Files.createTempDirectory("seeds");
        try (Backend cpu = TestBackends.cpu(1);
                Model dense = Sequential.builder().input(1, 2, 2).add(new Flatten())
                        .add(Dense.builder().units(3).build()).build(cpu);
                Model conv = Sequential.builder().input(1, 6, 6)
                        .add(Conv2d.builder().filters(2).kernel(3).padding(1).build()).add(new ReLU())
                        .add(new MaxPool2d(2)).add(new Flatten()).add(Dense.builder().units(2).build()).build(cpu)) {
            for (Model m : List.of(dense, conv)) {
                String name = m == dense ? "dense" : "conv";
                Path file = tmp.resolve(name + ".safetensors");
                m.setInfo(new ModelInfo(null, List.of("a", "b", "c").subList(0, m.outputShape().dim(0))));
                ModelFile.save(file, m);
                // The seeds NAME.safetensors without the "checksummed-" prefix were written before
                // checksums and are kept as they were: files of that age are still read.
                seed("ModelFilesFuzzTestInputs/modelFile", "checksummed-" + name + ".safetensors", Files.readAllBytes(file));
                seed("ModelFilesFuzzTestInputs/architecture", name + ".json",
                        m.architecture().getBytes(StandardCharsets.UTF_8));
                seed("SafetensorsFuzzTestInputs/read", "checksummed-" + name + ".safetensors", Files.readAllBytes(file));

                Map<String, Map<String, HostTensor>> slots = new LinkedHashMap<>();
                m.stateDict().forEach((param, t) -> {
                    Map<String, HostTensor> bySlot = new LinkedHashMap<>();
                    bySlot.put("m", new HostTensor(t.shape(), new float[t.shape().size()]));
                    bySlot.put("v", new HostTensor(t.shape(), new float[t.shape().size()]));
                    slots.put(param, bySlot);
                });
                Checkpoint c = new Checkpoint(m.describe(), "Adam", new OptimizerState(4, slots), 1,
                        4, 1, 2, 8, List.of(new Metrics(1, 2.3, 0.1, 2.2, 0.2, 1e-3, 0.5, 16, 0.01)),
                        List.of(new StepMetrics(1, 4, 2.3, 0.1, 1e-3)), Map.of("lr", "0.001"));
                Path checkpoint = tmp.resolve(name + "-checkpoint.safetensors");
                c.write(checkpoint);
                seed("ModelFilesFuzzTestInputs/checkpoint", "checksummed-" + name + ".safetensors",
                        Files.readAllBytes(checkpoint));
                // Epoch 2 of a run whose best epoch was 1: its weights travel as best/... tensors.
                Checkpoint later = new Checkpoint(m.describe(), "Adam", new OptimizerState(8, slots), 2, 8, 1, 2, 8,
                        List.of(new Metrics(1, 2.3, 0.1, 2.2, 0.4, 1e-3, 0.5, 16, 0.01),
                                new Metrics(2, 2.1, 0.2, 2.0, 0.3, 1e-3, 0.5, 16, 0.01)),
                        List.of(new StepMetrics(1, 4, 2.3, 0.1, 1e-3), new StepMetrics(2, 8, 2.1, 0.2, 1e-3)),
                        Map.of("lr", "0.001"), new Checkpoint.Best(1, m.describe()));
                later.write(checkpoint);
                seed("ModelFilesFuzzTestInputs/checkpoint", "checksummed-best-earlier-" + name + ".safetensors",
                        Files.readAllBytes(checkpoint));
            }
            // A deep chain for the fuzzer to mutate (cycles, duplicate names, cut chains). Its
            // length is what one input may cost while fuzzing (see ModelFilesFuzzTest); the
            // 5,000 nodes that overflowed the stack when planning recursed are GraphTest's and
            // IntegrityCliTest's.
            int n = 600;
            Graph.Builder g = Graph.builder().input(1, 2, 2);
            for (int i = 0; i < n; i++) {
                g.add("n" + i, i % 2 == 0 ? new ReLU() : new Tanh(), i == 0 ? Model.INPUT : "n" + (i - 1));
            }
            try (Model deep = g.add("flat", new Flatten(), "n" + (n - 1))
                    .add("out", Dense.builder().units(2).build(), "flat").output("out").build(cpu)) {
                seed("ModelFilesFuzzTestInputs/architecture", "deep-chain-" + n + ".json",
                        deep.architecture().getBytes(StandardCharsets.UTF_8));
                Path file = tmp.resolve("deep.safetensors");
                ModelFile.save(file, deep);
                seed("ModelFilesFuzzTestInputs/modelFile", "checksummed-deep-chain-" + n + ".safetensors",
                        Files.readAllBytes(file));
            }
        }
        seed("SafetensorsFuzzTestInputs/read", "reference-small.safetensors",
                Files.readAllBytes(Path.of("test-data/safetensors/reference-small.safetensors")));
        seed("SafetensorsFuzzTestInputs/read", "empty-header.safetensors",
                new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '});
    }
}
