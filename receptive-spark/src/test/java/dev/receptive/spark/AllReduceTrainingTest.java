package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.receptive.backend.Backend;
import dev.receptive.backend.Backends;
import dev.receptive.data.Split;
import dev.receptive.nn.HostTensor;
import dev.receptive.nn.Model;
import dev.receptive.nn.optim.Optimizer;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * All-reduce training (barrier stages whose tasks exchange gradients with each other) on
 * local[2], two partitions: against the shard-by-shard reference of {@link DataParallelTrainingTest}
 * bit for bit (the same per-shard gradients, added in rank order, the same elementwise optimizer
 * ops on slices), so also bit-identical run to run and whatever the stage length; against the
 * Trainer within the tolerance argued there; and a stage whose task is killed runs again and ends
 * in the same bits.
 */
class AllReduceTrainingTest {
    private static final long SEED = 7;
    private static final int BATCH = 64;
    private static final double LR = 1e-3;

    @BeforeAll
    static void load() throws IOException {
        DataParallelTrainingTest.load();
    }

    private static SparkTrainer.Builder builder(Model model, Optimizer opt, int stepsPerStage) {
        return SparkTrainer.builder().spark(SharedSpark.session()).model(model).optimizer(opt)
                .data(TrainingData.fashionMnist(TinyNet.TRAIN, Split.TRAIN)).batchSize(BATCH).partitions(2)
                .seed(SEED).backend("cpu").allReduce(stepsPerStage);
    }

    private static Map<String, HostTensor> allReduce(int stepsPerStage) {
        try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, SEED);
                Optimizer adam = Optimizer.adam(LR).build();
                SparkTrainer trainer = builder(model, adam, stepsPerStage).build()) {
            List<SparkTrainer.StepResult> results = trainer.fit(1);
            assertEquals(DataParallelTrainingTest.steps, results.size());
            for (int s = 0; s < results.size(); s++) {
                assertEquals(s, results.get(s).step());
                assertTrue(Double.isFinite(results.get(s).loss()), "loss of step " + s);
            }
            assertEquals(DataParallelTrainingTest.steps, adam.stepCount(), "the optimizer's steps came back");
            SparkTrainer.StageStats last = trainer.lastStage();
            long m = model.parameterCount();
            // Two tasks: each sends the other's half of the gradient and its own half of the weights
            // every step, 2(P − 1)/P × 4m bytes, plus 40 bytes of frame heads and loss header.
            long perStep = 4 * (m - m / 2) + 4 * (m / 2) + 8 + 16 + 8;
            assertEquals(perStep * last.steps(), last.bytesSent(), "bytes sent by task 0 in the last stage");
            // One stage: its tasks read the broadcast. Later stages start from what each replica kept.
            assertEquals(stepsPerStage >= results.size() ? 2 : 0, last.broadcastReads(), "tasks that read the broadcast");
            return model.stateDict();
        }
    }

    @Test
    void equalsTheShardwiseReferenceBitForBitWhateverTheStageLength() throws IOException {
        Map<String, HostTensor> exact = DataParallelTrainingTest.shardByShard(2);
        Map<String, HostTensor> whole = DataParallelTrainingTest.trainer();
        for (int stage : new int[] {31, 4}) {
            Map<String, HostTensor> got = allReduce(stage);
            for (String name : exact.keySet()) {
                assertArrayEquals(exact.get(name).data(), got.get(name).data(),
                        "stages of " + stage + " steps, " + name + ": bit for bit");
                // The tolerance of DataParallelTrainingTest, argued there.
                DataParallelTrainingTest.assertClose(whole.get(name).data(), got.get(name).data(), 1e-6, 1e-5,
                        name + " against the Trainer");
            }
        }
    }

    @Test
    void ranksThatMoveToOtherExecutorsHandTheirStateOverAndEndInTheSameBits() throws IOException {
        Map<String, HostTensor> exact = DataParallelTrainingTest.shardByShard(2);
        ExecutorResources.swapRanks = true; // every stage's tasks take the replica of the other rank
        Map<String, HostTensor> got;
        try {
            got = allReduce(4); // later stages must read no broadcast: the chunks swap over the mesh
        } finally {
            ExecutorResources.swapRanks = false;
        }
        for (String name : exact.keySet()) {
            assertArrayEquals(exact.get(name).data(), got.get(name).data(), name + ": bit for bit");
        }
    }

    @Test
    void sgdWithMomentumSlicedEqualsTheDriversUpdateBitForBit() {
        Map<String, HostTensor>[] states = new Map[2];
        for (int mode = 0; mode < 2; mode++) {
            try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, SEED);
                    Optimizer sgd = Optimizer.sgd(0.05).momentum(0.9).nesterov(true).weightDecay(1e-3).build();
                    SparkTrainer trainer = builder(model, sgd, mode == 0 ? 0 : 3).build()) {
                trainer.train(7);
                states[mode] = model.stateDict();
            }
        }
        for (String name : states[0].keySet()) {
            assertArrayEquals(states[0].get(name).data(), states[1].get(name).data(), name);
        }
    }

    @Test
    void aModelChangedOnTheDriverBetweenStagesIsWhereTheNextStageStarts() {
        Map<String, HostTensor>[] states = new Map[2];
        for (int mode = 0; mode < 2; mode++) {
            try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, SEED);
                    Optimizer adam = Optimizer.adam(LR).build();
                    SparkTrainer trainer = builder(model, adam, mode == 0 ? 0 : 3).build()) {
                trainer.train(3);
                trainer.train(3);
                if (mode == 1) {
                    assertEquals(0, trainer.lastStage().broadcastReads(), "the second stage starts from the replicas");
                }
                Map<String, HostTensor> changed = model.stateDict();
                String first = changed.keySet().iterator().next();
                float[] w = changed.get(first).data().clone();
                for (int i = 0; i < w.length; i++) {
                    w[i] *= 0.5f;
                }
                changed.put(first, new HostTensor(changed.get(first).shape(), w));
                model.loadStateDict(changed);
                trainer.train(3);
                if (mode == 1) {
                    assertEquals(2, trainer.lastStage().broadcastReads(), "a changed model is broadcast again");
                }
                states[mode] = model.stateDict();
            }
        }
        // The driver's sum keeps nothing on the executors: the all-reduce run must end in its bits.
        for (String name : states[0].keySet()) {
            assertArrayEquals(states[0].get(name).data(), states[1].get(name).data(), name);
        }
    }

    @Test
    void aKilledTaskRunsTheStageAgainAndEndsInTheSameBits() {
        Map<String, HostTensor> undisturbed = allReduce(10);
        var sc = SharedSpark.session().sparkContext();
        AtomicInteger kills = new AtomicInteger();
        SparkTrainer[] running = new SparkTrainer[1];
        SparkListener killer = new SparkListener() {
            @Override
            public void onTaskStart(SparkListenerTaskStart start) {
                // Partition 0 of each stage after the first, until one stage has failed: a kill
                // that comes after its task finished is a no-op, and the next stage gets one.
                if (start.taskInfo().partitionId() == 0
                        && running[0].failedStages() == 0 && kills.get() < 3) {
                    kills.incrementAndGet();
                    new Thread(() -> sc.killTaskAttempt(start.taskInfo().taskId(), true, "test: a lost task")).start();
                }
            }
        };
        Map<String, HostTensor> disturbed;
        try (Backend cpu = Backends.create("cpu"); Model model = TinyNet.build(cpu, SEED);
                Optimizer adam = Optimizer.adam(LR).build();
                SparkTrainer trainer = builder(model, adam, 10).build()) {
            running[0] = trainer;
            trainer.stepsPerEpoch(); // the data summary job runs before the listener counts
            trainer.train(1); // the first stage, undisturbed
            sc.addSparkListener(killer);
            try {
                trainer.train(DataParallelTrainingTest.steps - 1);
            } finally {
                sc.removeSparkListener(killer);
            }
            assertTrue(kills.get() > 0, "a task was killed");
            assertTrue(trainer.failedStages() >= 1, "the stage failed and ran again");
            disturbed = model.stateDict();
        }
        for (String name : undisturbed.keySet()) {
            assertArrayEquals(undisturbed.get(name).data(), disturbed.get(name).data(), name);
        }
    }
}
