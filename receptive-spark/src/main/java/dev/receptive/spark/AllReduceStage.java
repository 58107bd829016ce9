package dev.receptive.spark;

import dev.receptive.nn.ModelDescription;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.BarrierTaskInfo;
import org.apache.spark.broadcast.Broadcast;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/**
 * The executors' side of all-reduce training: one barrier stage runs several steps. Its P tasks
 * connect to each other ({@link PeerGroup}: addresses from the barrier context, ports through the
 * driver's {@link Rendezvous}), each loads the stage's starting weights into its replica and its slice of the
 * optimizer state, and then, every step: computes its shard's gradient, reduce-scatters the
 * gradients (each task sums one chunk, in rank order), updates its chunk of the weights with its
 * share of the optimizer ({@link SliceOptimizer}), and all-gathers the chunks, so every replica
 * holds the same new weights. Batch norms normalize with the global batch's statistics, which the
 * tasks sum per layer through the same sockets ({@link PeerGroup#allReduce(double[])}). The driver gets, at the stage's end only, each task's chunk of the
 * weights and of the optimizer state, the steps' losses and what the task saw.
 */
final class AllReduceStage {
    private AllReduceStage() {
    }

    /**
     * What every task starts from: the weights and the optimizer state at the stage's start.
     *
     * @param weights the model (architecture and weights)
     * @param state per slot, the optimizer state of all parameters end to end; null for a fresh optimizer
     * @param optimizerStep the steps the optimizer has taken
     */
    record Start(ModelDescription weights, float[][] state, int optimizerStep) implements Serializable {
    }

    /**
     * Which state a stage starts from and ends in, so that the replicas can carry their state from
     * one stage to the next without the broadcast: at the end of a task, its replica keeps its
     * chunk of the optimizer state under {@code end}; when the next stage's {@code start} is that
     * version (the driver holds what the tasks returned, unchanged) and every task's replica kept
     * it, the tasks hand the chunks to their ranks over the mesh. Otherwise (a new executor, a
     * stage that failed, a model changed on the driver) a task reads the broadcast, unless its
     * replica kept its own rank's chunk of that version.
     *
     * @param start the version of the stage's starting state
     * @param end the version its end state gets
     * @param spec the optimizer
     */
    record Versions(long start, long end, SliceOptimizer.Spec spec) implements Serializable {
    }

    /**
     * One task's part of a stage.
     *
     * @param partition the task's rank
     * @param shards its shard of every step of the stage, in order
     * @param lrs every step's learning rate
     */
    record Plan(int partition, Shard[] shards, float[] lrs) implements Serializable {
    }

    /**
     * What a task returns.
     *
     * @param partition its rank
     * @param steps the steps applied (fewer than planned when the loss diverged)
     * @param lossSums the global batch's summed loss per step (the same on every task); one more than steps when the
     *     last one diverged
     * @param correct the global batch's correct count per step
     * @param weights the task's chunk of the final weights
     * @param state the task's chunk of the final optimizer state, per slot
     * @param buffers every buffer of the final model (batch norm's running statistics: the same on every task)
     * @param optimizerStep the optimizer's steps at the end
     * @param dataFingerprint the fingerprint of the data the executor read
     * @param samples the samples of every step's shard, summed
     * @param bytesSent bytes the task sent to its peers in the stage's steps
     * @param exchangeSeconds the time the task spent in the two collectives
     * @param computeSeconds the time the task spent in forward and backward passes
     * @param readBroadcast whether the task started from the broadcast (else from what its replica kept)
     */
    record Result(int partition, int steps, double[] lossSums, int[] correct, float[] weights, float[][] state,
            float[][] buffers, int optimizerStep, long dataFingerprint, long samples, long bytesSent, double exchangeSeconds,
            double computeSeconds, boolean readBroadcast) implements Serializable {
    }

    /** The task: see the class comment. */
    static final class Task extends AbstractFunction1<scala.collection.Iterator<Plan>, scala.collection.Iterator<Result>>
            implements Serializable {
        private static final long serialVersionUID = 1L;
        private final String run;
        private final String backend;
        private final TrainingData data;
        private final Broadcast<Start> start;
        private final long timeoutMs;
        private final Rendezvous.Ticket ticket;
        private final Versions versions;

        Task(String run, String backend, TrainingData data, Broadcast<Start> start, long timeoutMs,
                Rendezvous.Ticket ticket, Versions versions) {
            this.run = run;
            this.ticket = ticket;
            this.versions = versions;
            this.backend = backend;
            this.data = data;
            this.start = start;
            this.timeoutMs = timeoutMs;
        }

        @Override
        public scala.collection.Iterator<Result> apply(scala.collection.Iterator<Plan> plans) {
            List<Result> out = new ArrayList<>();
            while (plans.hasNext()) {
                try {
                    out.add(run(plans.next()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e.getMessage(), e);
                }
            }
            return CollectionConverters.asScala(out.iterator());
        }

        private Result run(Plan plan) throws IOException {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            BarrierTaskInfo[] infos = ctx.getTaskInfos();
            int rank = ctx.partitionId();
            int size = infos.length;
            if (rank != plan.partition()) {
                throw new IllegalStateException("receptive-spark: partition " + rank + " got the plan of "
                        + plan.partition());
            }
            String host = host(infos[rank].address());
            ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getByName(host), 0), size);
            List<InetSocketAddress> peers;
            try {
                peers = Rendezvous.join(ticket, rank, size, new InetSocketAddress(host, server.socket().getLocalPort()),
                        timeoutMs, ctx::isInterrupted);
            } catch (IOException | RuntimeException e) {
                server.close();
                throw e;
            }
            ExecutorResources.SharedBackend shared = ExecutorResources.backendForTask(backend);
            ExecutorResources.LoadedData loaded = ExecutorResources.dataset(data);
            try (PeerGroup group = PeerGroup.connect(rank, server, peers, timeoutMs, ctx::isInterrupted)) {
                Replica replica = ExecutorResources.borrowReplica(run, rank,
                        r -> new Replica(r, shared, start.value().weights()));
                boolean healthy = false;
                try {
                    Result result = steps(plan, group, replica, shared, loaded);
                    healthy = true;
                    return result;
                } finally {
                    ExecutorResources.release(replica, healthy);
                }
            }
        }

        private Result steps(Plan plan, PeerGroup group, Replica replica, ExecutorResources.SharedBackend shared,
                ExecutorResources.LoadedData loaded) throws IOException {
            int rank = group.rank();
            int size = group.size();
            // The stage's start: what the replicas kept at the end of the last stage, when that is
            // exactly where this one starts (the driver's version), else the broadcast.
            Replica.Kept kept = replica.take(versions.start(), size);
            int[] holders = holders(group, kept);
            float[] weights;
            float[][] state = null;
            int optimizerStep;
            boolean fromBroadcast;
            if (holders != null) {
                // Every rank's chunk is held by one task (ranks may have moved to other executors):
                // the weights are every replica's, and each chunk goes to its rank over the mesh.
                weights = replica.flatten(true);
                state = handOver(group, kept, holders, weights.length);
                optimizerStep = kept.optimizerStep();
                fromBroadcast = false;
            } else if (kept != null && kept.rank() == rank) {
                weights = replica.flatten(true);
                state = kept.state();
                optimizerStep = kept.optimizerStep();
                fromBroadcast = false;
            } else {
                Start s = start.value();
                weights = replica.loadFlat(start.id(), s.weights());
                optimizerStep = s.optimizerStep();
                fromBroadcast = true;
                if (s.state() != null) {
                    int from = PeerGroup.chunkStart(weights.length, size, rank);
                    int to = PeerGroup.chunkStart(weights.length, size, rank + 1);
                    state = new float[s.state().length][];
                    for (int k = 0; k < state.length; k++) {
                        state[k] = java.util.Arrays.copyOfRange(s.state()[k], from, to);
                    }
                }
            }
            long sentAtStart = group.bytesSent(); // the steps' bytes are reported, not the start's
            int m = weights.length;
            int from = PeerGroup.chunkStart(m, size, rank);
            int to = PeerGroup.chunkStart(m, size, rank + 1);
            int steps = plan.shards().length;
            double[] lossSums = new double[steps];
            int[] correct = new int[steps];
            long samples = 0;
            long exchangeNanos = 0;
            long computeNanos = 0;
            int done = 0;
            replica.synchronize(values -> {
                try {
                    group.allReduce(values);
                } catch (IOException e) {
                    throw new UncheckedIOException(e.getMessage(), e);
                }
            });
            try (SliceOptimizer optimizer = new SliceOptimizer(shared.backend(),
                    versions.spec(), java.util.Arrays.copyOfRange(weights, from, to), state, optimizerStep)) {
                double[][] headers = new double[size][];
                for (int i = 0; i < steps; i++) {
                    Shard shard = plan.shards()[i];
                    long t0 = System.nanoTime();
                    ShardResult r = replica.compute(shard, loaded);
                    float[] grad = flat(r.gradients(), m);
                    long t1 = System.nanoTime();
                    float[] sum = group.reduceScatter(grad, new double[] {r.lossSum(), r.correct()}, headers);
                    long t2 = System.nanoTime();
                    double loss = 0;
                    int right = 0;
                    for (int q = 0; q < size; q++) {
                        loss += headers[q][0];
                        right += (int) headers[q][1];
                    }
                    lossSums[i] = loss;
                    correct[i] = right;
                    samples += r.samples();
                    if (!Double.isFinite(loss)) {
                        // Every task sees the same sum and stops here, before the update.
                        break;
                    }
                    optimizer.step(sum, plan.lrs()[i], weights, from);
                    long t3 = System.nanoTime();
                    group.allGather(weights);
                    replica.setFlat(weights);
                    long t4 = System.nanoTime();
                    computeNanos += (t1 - t0) + (t3 - t2);
                    exchangeNanos += (t2 - t1) + (t4 - t3);
                    done++;
                }
                int reported = done < steps ? done + 1 : done;
                float[][] endState = optimizer.state();
                replica.keep(new Replica.Kept(versions.end(), rank, size, endState, optimizer.stepCount()));
                return new Result(rank, done, java.util.Arrays.copyOf(lossSums, reported),
                        java.util.Arrays.copyOf(correct, reported), java.util.Arrays.copyOfRange(weights, from, to),
                        endState, replica.buffers(), optimizer.stepCount(), loaded.fingerprint(), samples, group.bytesSent() - sentAtStart,
                        exchangeNanos / 1e9, computeNanos / 1e9, fromBroadcast);
            } finally {
                replica.synchronize(null);
            }
        }
    }

    /**
     * {@return which task holds each rank's kept chunk (holders[r] = that task's rank), when every
     * task kept the stage's starting state and the chunks they kept are all P ranks; else null}
     * Every task gets the same answer: the counts are summed over the group in rank order.
     */
    static int[] holders(PeerGroup group, Replica.Kept kept) throws IOException {
        int size = group.size();
        double[] v = new double[2 * size]; // per chunk: 1 + its holder's rank, and how many hold it
        if (kept != null) {
            v[kept.rank()] = group.rank() + 1;
            v[size + kept.rank()] = 1;
        }
        group.allReduce(v);
        int[] holders = new int[size];
        for (int r = 0; r < size; r++) {
            if (v[size + r] != 1) {
                return null;
            }
            holders[r] = (int) v[r] - 1;
        }
        return holders;
    }

    /**
     * Sends this task's kept chunk of every optimizer slot to the rank it belongs to and receives
     * its own rank's chunk from its holder ({@link #holders}).
     *
     * @return per slot, this rank's chunk
     */
    static float[][] handOver(PeerGroup group, Replica.Kept kept, int[] holders, int m) throws IOException {
        int rank = group.rank();
        int size = group.size();
        float[][] mine = kept.state();
        if (mine == null) {
            return null;
        }
        int slots = mine.length;
        int keptLength = PeerGroup.chunkStart(m, size, kept.rank() + 1) - PeerGroup.chunkStart(m, size, kept.rank());
        float[] out = new float[slots * keptLength];
        for (int k = 0; k < slots; k++) {
            System.arraycopy(mine[k], 0, out, k * keptLength, keptLength);
        }
        int own = PeerGroup.chunkStart(m, size, rank + 1) - PeerGroup.chunkStart(m, size, rank);
        float[] got = group.swap(out, kept.rank(), holders[rank], slots * own);
        if (got == null) {
            return mine; // this task kept its own rank's chunk
        }
        float[][] state = new float[slots][];
        for (int k = 0; k < slots; k++) {
            state[k] = java.util.Arrays.copyOfRange(got, k * own, (k + 1) * own);
        }
        return state;
    }

    /** The gradients of every parameter end to end. */
    static float[] flat(float[][] parts, int m) {
        float[] out = new float[m];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        if (at != m) {
            throw new IllegalStateException("receptive-spark: " + at + " gradient values for " + m + " weights");
        }
        return out;
    }

    /** The host of a barrier task's address ("host:port", "[v6]:port" or a bare host). */
    static String host(String address) {
        if (address.startsWith("[")) {
            return address.substring(1, address.indexOf(']'));
        }
        int colon = address.lastIndexOf(':');
        return colon > 0 && address.indexOf(':') == colon ? address.substring(0, colon) : address;
    }
}
