package dev.receptive.spark;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.DataFolder;
import dev.receptive.data.Dataset;
import dev.receptive.data.Mnist;
import dev.receptive.data.Split;
import dev.receptive.io.ModelFile;
import dev.receptive.nn.Model;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.train.Evaluation;
import dev.receptive.zoo.Zoo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/**
 * The runnable example: trains the seed net (W1), or another network of the zoo, on MNIST with
 * Spark, evaluates it on the test set and saves the model file. Runs with any master (local[*] unless spark-submit or --master set
 * one); see the README's "Scaling out with Spark".
 *
 * <pre>
 * --data DIR        MNIST folder every executor can read (default: the data folder's mnist/)
 * --model NAME      seednet (default), resnet8, resnet14 or resnet20 (batch norm: use --all-reduce)
 * --epochs N        epochs (default 1); --steps N trains N steps instead
 * --batch N         global batch size (default 64)
 * --partitions N    shards per step (default: Spark's default parallelism)
 * --lr X            Adam's learning rate (default 0.001)
 * --seed N          seed of weights, shuffles and dropout (default 1)
 * --backend NAME    the executors' backend: auto (default), cpu or cuda
 * --gang            run each step as a barrier stage
 * --all-reduce N    tasks all-reduce among themselves, N steps per barrier stage
 * --checkpoints DIR write checkpoints there (every epoch, and every --checkpoint-every N steps)
 * --resume          continue from the checkpoint in --checkpoints DIR, when there is one
 * --out FILE        where to save the model (default runs/spark-mnist/model.safetensors)
 * --master URL      Spark master when not run by spark-submit (default local[*])
 * </pre>
 */
public final class TrainMnistOnSpark {
    private static final List<String> FLAGS = List.of("--gang", "--resume");
    private static final List<String> OPTIONS = List.of("--data", "--epochs", "--steps", "--batch", "--partitions", "--lr",
            "--seed", "--backend", "--out", "--master", "--all-reduce", "--model",
            "--checkpoints", "--checkpoint-every");

    private TrainMnistOnSpark() {
    }

    /**
     * Trains, evaluates and saves, then stops its Spark session.
     *
     * @param args the options listed above
     * @throws Exception when training, evaluation or saving fails, or a number does not parse; a missing data
     *     folder or an unknown or incomplete option exits with status 2 instead
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        Path data = Path.of(opt.getOrDefault("--data", DataFolder.mnist().toString()));
        int epochs = Integer.parseInt(opt.getOrDefault("--epochs", "1"));
        int batch = Integer.parseInt(opt.getOrDefault("--batch", "64"));
        double lr = Double.parseDouble(opt.getOrDefault("--lr", "0.001"));
        long seed = Long.parseLong(opt.getOrDefault("--seed", "1"));
        Path out = Path.of(opt.getOrDefault("--out", "runs/spark-mnist/model.safetensors"));
        String modelName = opt.getOrDefault("--model", "seednet");
        if (!Zoo.NAMES.contains(modelName)) {
            System.err.println("Unknown model '" + modelName + "'; known: " + String.join(", ", Zoo.NAMES));
            System.exit(2);
        }
        if (!Files.isDirectory(data)) {
            System.err.println("No MNIST folder at " + data + ": run scripts/fetch-datasets.sh, or pass --data DIR");
            System.exit(2);
        }
        SparkSession spark = session("receptive-mnist", opt.get("--master"));
        try (Backend driver = Backends.create("cpu"); Model model = Zoo.build(modelName, driver, seed);
                Optimizer adam = Optimizer.adam(lr).build()) {
            SparkTrainer.Builder tb = SparkTrainer.builder().spark(spark).model(model).optimizer(adam)
                    .data(TrainingData.mnist(data, Split.TRAIN)).batchSize(batch).seed(seed)
                    .backend(opt.getOrDefault("--backend", "auto")).gangScheduled(opt.containsKey("--gang"));
            if (opt.containsKey("--checkpoints")) {
                tb.checkpoints(Path.of(opt.get("--checkpoints")),
                        Integer.parseInt(opt.getOrDefault("--checkpoint-every", "0")));
            }
            tb.resume(opt.containsKey("--resume"));
            if (opt.containsKey("--all-reduce")) {
                tb.allReduce(Integer.parseInt(opt.get("--all-reduce")));
            }
            if (opt.containsKey("--partitions")) {
                tb.partitions(Integer.parseInt(opt.get("--partitions")));
            }
            try (SparkTrainer trainer = tb.build()) {
                int total = opt.containsKey("--steps") ? Integer.parseInt(opt.get("--steps"))
                        : epochs * trainer.stepsPerEpoch();
                int done = trainer.stepCount(); // after a resume: the checkpoint's step
                int steps = Math.max(0, total - done);
                if (done > 0) {
                    System.out.printf(Locale.ROOT, "Resumed after step %d of %d%n", done, total);
                }
                System.out.printf(Locale.ROOT, "Training %s on %s with %s: %d steps of %d images%n", modelName, data,
                        spark.sparkContext().master(), steps, batch);
                long start = System.nanoTime();
                int s = 0;
                while (s < steps) {
                    // 50 steps at a time: an all-reduce trainer runs them as few barrier stages
                    List<SparkTrainer.StepResult> window = trainer.train(Math.min(50, steps - s));
                    double loss = 0;
                    double acc = 0;
                    for (SparkTrainer.StepResult r : window) {
                        loss += r.loss();
                        acc += r.accuracy();
                    }
                    s += window.size();
                    double seconds = (System.nanoTime() - start) / 1e9;
                    System.out.printf(Locale.ROOT, "step %d/%d  epoch %d  loss %.4f  acc %.2f%%  %.0f images/s%n",
                            done + s, total, window.get(window.size() - 1).epoch() + 1, loss / window.size(),
                            100 * acc / window.size(), (double) s * batch / seconds);
                }
            }
            Dataset test = Mnist.load(data, Split.TEST);
            try (Loss ce = Loss.softmaxCrossEntropy()) {
                Evaluation e = Evaluation.of(model, ce, test, 256);
                System.out.printf(Locale.ROOT, "test: loss %.4f  accuracy %.2f%% on %d images%n", e.loss(),
                        100 * e.accuracy(), test.size());
            }
            if (out.getParent() != null) {
                Files.createDirectories(out.getParent());
            }
            ModelFile.save(out, model);
            System.out.println("saved " + out);
        } finally {
            spark.stop();
        }
    }

    /**
     * The examples' Spark session: Receptive's executor plugin added to a user's own
     * {@code spark.plugins} (from spark-submit's --conf or spark-defaults, kept), the master given,
     * else spark-submit's, else local[*]; Spark's own log lines at WARN.
     */
    static SparkSession session(String appName, String master) {
        org.apache.spark.SparkConf conf = new org.apache.spark.SparkConf();
        SparkSession.Builder builder = SparkSession.builder().appName(appName)
                .config("spark.plugins", ReceptivePlugin.mergedPlugins(conf.get("spark.plugins", "")));
        if (master != null) {
            builder.master(master);
        } else if (!conf.contains("spark.master")) {
            builder.master("local[*]");
        }
        SparkSession spark = builder.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        return spark;
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (FLAGS.contains(args[i])) {
                opt.put(args[i], "true");
            } else if (OPTIONS.contains(args[i]) && i + 1 < args.length) {
                opt.put(args[i], args[++i]);
            } else {
                System.err.println("Unknown or incomplete option '" + args[i] + "'; options: " + FLAGS + " " + OPTIONS);
                System.exit(2);
            }
        }
        return opt;
    }
}
