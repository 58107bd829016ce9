package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.Batches;
import dev.receptive.data.Dataset;
import dev.receptive.data.FashionMnist;
import dev.receptive.data.Split;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.loss.Loss;
import dev.receptive.nn.optim.LrSchedule;
import dev.receptive.nn.optim.Optimizer;
import dev.receptive.train.TrainingStep;
import dev.receptive.zoo.Zoo;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Batch norm on Spark: the zoo's resnet8 (batch norm after every convolution, residual adds)
 * trained with all-reduce on local[2], two shards of 16, one stage per step, against a single
 * process running the same steps on the whole batch of 32 ({@link TrainingStep}, written
 * independently of the Spark module). After every step the weights, the running statistics and
 * the loss must agree within fp32 rounding; and the same test on shards with their own
 * statistics (what training without synchronization would do) misses by orders of magnitude, so
 * the tolerance can tell them apart.
 */
class SyncBatchNormTest {
    private static final long SEED = 3;
    private static final int BATCH = 32;
    private static final int STEPS = 4;
    private static final double LR = 0.1;

    /** Plain SGD: a weight moves by lr × its gradient, so a gradient's rounding stays a rounding. */
    private static Optimizer sgd() {
        return Optimizer.sgd(LR).build();
    }

    @Test
    void eachDistributedStepEqualsTheWholeBatchStepWithinRounding() throws IOException {
        Dataset train = FashionMnist.load(TinyNet.TRAIN, Split.TRAIN);
        int item = train.itemShape().size();
        try (Backend cpu = Backends.create("cpu"); Model reference = Zoo.build("resnet8", cpu, SEED);
                Model unsynced = Zoo.build("resnet8", cpu, SEED); Model distributed = Zoo.build("resnet8", cpu, SEED);
                Optimizer refOpt = sgd(); Optimizer unsyncedOpt = sgd(); Optimizer distOpt = sgd();
                Loss loss = Loss.softmaxCrossEntropy(); Loss loss2 = Loss.softmaxCrossEntropy();
                TrainingStep refStep = new TrainingStep(reference, loss, refOpt, LrSchedule.constant(), 1);
                TrainingStep unsyncedStep = new TrainingStep(unsynced, loss2, unsyncedOpt, LrSchedule.constant(), 1);
                SparkTrainer trainer = SparkTrainer.builder().spark(SharedSpark.session()).model(distributed)
                        .optimizer(distOpt).data(TrainingData.fashionMnist(TinyNet.TRAIN, Split.TRAIN))
                        .batchSize(BATCH).partitions(2).seed(SEED).backend("cpu").allReduce(1).build()) {
            Map<String, HostTensor> lastReference = null;
            int[] order = Batches.shuffledOrder(train.size(), SEED, 0);
            for (int step = 0; step < STEPS; step++) {
                float[] x = new float[BATCH * item];
                float[] y = new float[BATCH];
                for (int r = 0; r < BATCH; r++) {
                    train.copyImage(order[step * BATCH + r], x, r * item);
                    y[r] = train.label(order[step * BATCH + r]);
                }
                float[] refLoss = new float[1];
                refStep.start(0, 0);
                refStep.gradients(x, y, BATCH, step, 0, 1f, (l, out, labels) -> cpu.download(l, refLoss));
                refStep.update();
                // Without synchronization: each half normalized by its own statistics, gradients added.
                if (lastReference != null) {
                    unsynced.loadStateDict(lastReference); // from the reference's state before this step
                }
                unsyncedStep.start(0, 0);
                float[][] sum = null;
                for (int half = 0; half < 2; half++) {
                    float[] xs = java.util.Arrays.copyOfRange(x, half * BATCH / 2 * item, (half + 1) * BATCH / 2 * item);
                    float[] ys = java.util.Arrays.copyOfRange(y, half * BATCH / 2, (half + 1) * BATCH / 2);
                    unsyncedStep.gradients(xs, ys, BATCH / 2, step, half * BATCH / 2, 0.5f, null);
                    var params = unsynced.parameters();
                    if (sum == null) {
                        sum = new float[params.size()][];
                        for (int k = 0; k < sum.length; k++) {
                            sum[k] = cpu.download(params.get(k).grad());
                        }
                    } else {
                        for (int k = 0; k < sum.length; k++) {
                            float[] g = cpu.download(params.get(k).grad());
                            for (int i = 0; i < g.length; i++) {
                                sum[k][i] += g[i];
                            }
                        }
                    }
                }
                for (int k = 0; k < sum.length; k++) {
                    cpu.upload(unsynced.parameters().get(k).grad(), sum[k]);
                }
                unsyncedStep.update();

                List<SparkTrainer.StepResult> r = trainer.train(1);
                // From the second stage on the replicas start from what they kept, running statistics included.
                assertEquals(step == 0 ? 2 : 0, trainer.lastStage().broadcastReads(), "tasks that read the broadcast");
                Map<String, HostTensor> want = reference.stateDict();
                Map<String, HostTensor> got = distributed.stateDict();
                Map<String, HostTensor> off = unsynced.stateDict();
                double worst = 0;
                double unsyncedWorst = 0;
                for (String name : want.keySet()) {
                    if (name.endsWith("num_batches_tracked")) {
                        assertEquals(step + 1f, got.get(name).data()[0], name);
                        continue;
                    }
                    worst = Math.max(worst, relative(want.get(name).data(), got.get(name).data()));
                    unsyncedWorst = Math.max(unsyncedWorst, relative(want.get(name).data(), off.get(name).data()));
                }
                // fp32 rounding: the global statistics come from the shards' mean and 1/σ in float
                // (the variance recovered from 1/σ², relative error ~2⁻²³), and the per-channel sums
                // add in another order; each step's gradients then differ by a few ulps relative to
                // their size, and an SGD step moves weights by 0.1 × gradient. Measured: 3.8e-7,
                // 5.4e-7, 9.2e-7, 8.5e-7 relative to each tensor's largest value after steps 1-4;
                // 1e-5 leaves a margin of ten, while shards on their own statistics miss by 0.2-0.9.
                assertTrue(worst < 1e-5, "step " + step + ": distributed vs whole batch, worst relative " + worst);
                assertTrue(unsyncedWorst > 100 * Math.max(worst, 1e-7), "step " + step + ": unsynchronized shards"
                        + " should miss (" + unsyncedWorst + " vs " + worst + ")");
                assertEquals(refLoss[0], r.get(0).loss(), 1e-5 * Math.abs(refLoss[0]), "loss of step " + step);
                lastReference = want;
                System.getLogger(SyncBatchNormTest.class.getName()).log(System.Logger.Level.INFO,
                        "step " + step + ": synchronized " + worst + ", unsynchronized " + unsyncedWorst);
            }
        }
    }

    /** max |a − b| / max |a| over one tensor. */
    private static double relative(float[] a, float[] b) {
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < a.length; i++) {
            scale = Math.max(scale, Math.abs(a[i]));
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        return scale == 0 ? diff : diff / scale;
    }
}
