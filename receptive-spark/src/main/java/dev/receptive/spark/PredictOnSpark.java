package dev.receptive.spark;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.io.ModelFile;
import dev.receptive.io.internal.AtomicFiles;
import dev.receptive.nn.Model;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * The runnable inference example: predicts every image of a folder (PNG, JPEG, GIF or BMP, read
 * by Spark's {@code binaryFile} source on the executors) with a model file and writes one line
 * per image, sorted by path: the path, the class index, the class name (or the index again when
 * the model records no names) and its probability, separated by tabs.
 *
 * <pre>
 * --model FILE      the model file (safetensors, as train saves it); the driver reads it
 * --images DIR      a folder every executor can read; its image files, subfolders included
 * --out FILE        where the lines go (default: standard output)
 * --batch N         images per forward pass on an executor (default 64)
 * --backend NAME    the executors' backend: auto (default), cpu or cuda
 * --master URL      Spark master when not run by spark-submit (default local[*])
 * </pre>
 */
public final class PredictOnSpark {
    private static final List<String> OPTIONS = List.of("--model", "--images", "--out", "--batch", "--backend", "--master");

    private PredictOnSpark() {
    }

    /**
     * Predicts, writes the lines, then stops its Spark session.
     *
     * @param args the options listed above
     * @throws Exception when the model cannot be read or a job fails; a missing option or folder exits with status 2
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        if (!opt.containsKey("--model") || !opt.containsKey("--images")) {
            usage("--model FILE and --images DIR are required");
        }
        Path modelFile = Path.of(opt.get("--model"));
        Path images = Path.of(opt.get("--images"));
        if (!Files.isDirectory(images)) {
            usage("no image folder at " + images);
        }
        int batch = Integer.parseInt(opt.getOrDefault("--batch", "64"));
        SparkSession spark = TrainMnistOnSpark.session("receptive-predict", opt.get("--master"));
        try (Backend driver = Backends.create("cpu"); Model model = ModelFile.load(modelFile, driver);
                SparkPredictor predictor = SparkPredictor.builder().spark(spark).model(model).batchSize(batch)
                        .backend(opt.getOrDefault("--backend", "auto")).build()) {
            org.apache.spark.sql.Dataset<Row> files = spark.read().format("binaryFile")
                    .option("recursiveFileLookup", "true")
                    .option("pathGlobFilter", "*.{png,PNG,jpg,JPG,jpeg,JPEG,gif,GIF,bmp,BMP}")
                    .load(images.toAbsolutePath().toString());
            boolean named = !model.info().classNames().isEmpty();
            Column cls = functions.col(SparkPredictor.PREDICTION);
            org.apache.spark.sql.Dataset<Row> lines = predictor.predict(files, "content")
                    .select(functions.col("path"), cls, named ? functions.col(SparkPredictor.CLASS) : cls.cast("string"),
                            functions.element_at(functions.col(SparkPredictor.PROBABILITIES), cls.plus(1)))
                    .orderBy("path");
            // One partition at a time reaches the driver, so its memory does not grow with the folder.
            long count = write(opt.get("--out"), lines.toLocalIterator());
            System.err.printf(Locale.ROOT, "predicted %d images with %s on %s%n", count, modelFile,
                    spark.sparkContext().master());
        } finally {
            spark.stop();
        }
    }

    /** Writes one line per row as the rows arrive: to the file atomically, or to standard output; returns the count. */
    private static long write(String out, Iterator<Row> rows) throws IOException {
        long[] count = {0};
        AtomicFiles.Writer lines = o -> {
            Writer w = new OutputStreamWriter(o, StandardCharsets.UTF_8);
            while (rows.hasNext()) {
                Row r = rows.next();
                w.write(r.getString(0) + '\t' + r.getInt(1) + '\t' + r.getString(2) + '\t'
                        + String.format(Locale.ROOT, "%.6f", r.getFloat(3)) + '\n');
                count[0]++;
            }
            w.flush();
        };
        if (out == null) {
            lines.write(System.out);
            System.out.flush();
            return count[0];
        }
        Path file = Path.of(out);
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        AtomicFiles.write(file, lines); // a reader sees the old file or all the new lines
        return count[0];
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (OPTIONS.contains(args[i]) && i + 1 < args.length) {
                opt.put(args[i], args[++i]);
            } else {
                usage("unknown or incomplete option '" + args[i] + "'; options: " + OPTIONS);
            }
        }
        return opt;
    }

    private static void usage(String message) {
        System.err.println("PredictOnSpark: " + message);
        System.exit(2);
    }
}
