package dev.receptive.spark;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.function.IntUnaryOperator;

/**
 * The P tasks of a barrier stage connected to each other by TCP sockets (a full mesh: one socket
 * per pair), and the two collectives of data-parallel training built on it, in a fixed order so
 * the results do not depend on timing:
 *
 * <ul>
 *   <li>{@link #reduceScatter}: the flat vector of M floats is cut into P chunks (chunk c holds
 *       elements ⌊cM/P⌋ … ⌊(c+1)M/P⌋ − 1); every task sends chunk c to task c, and task c adds the
 *       P copies of its chunk in rank order 0, 1, …, P − 1, sequentially in float, exactly as the
 *       driver added whole gradients before;
 *   <li>{@link #allGather}: every task sends its chunk to every other, so all hold the whole vector.
 * </ul>
 *
 * Each sends (P − 1)/P × M floats and receives as many per collective: 2(P − 1)/P × 4M bytes per
 * task for both, whatever P, and nothing through the driver. Sends to the P − 1 peers run on
 * their own threads while the calling thread reads, so no pair of large writes can block each
 * other. A read waits in slices of a second, asking {@code cancelled} between them (a killed
 * task), up to the group's timeout.
 *
 * <p>Not thread-safe: one task uses its group.
 */
final class PeerGroup implements AutoCloseable {
    private final int rank;
    private final int size;
    private final Socket[] sockets;
    private final DataOutputStream[] out;
    private final InputStream[] in;
    private final ExecutorService senders;
    private final long timeoutMs;
    private final BooleanSupplier cancelled;
    private final byte[][] sendBuffers;
    private long bytesSent;
    private long bytesReceived;

    private PeerGroup(int rank, int size, Socket[] sockets, long timeoutMs, BooleanSupplier cancelled)
            throws IOException {
        this.rank = rank;
        this.size = size;
        this.sockets = sockets;
        this.timeoutMs = timeoutMs;
        this.cancelled = cancelled;
        this.out = new DataOutputStream[size];
        this.in = new InputStream[size];
        this.sendBuffers = new byte[size][0];
        for (int q = 0; q < size; q++) {
            if (q != rank) {
                sockets[q].setSoTimeout(1000);
                sockets[q].setTcpNoDelay(true);
                out[q] = new DataOutputStream(new BufferedOutputStream(sockets[q].getOutputStream(), 1 << 16));
                in[q] = new BufferedInputStream(sockets[q].getInputStream(), 1 << 16);
            }
        }
        this.senders = Executors.newFixedThreadPool(Math.max(1, size - 1), r -> {
            Thread t = new Thread(r, "receptive-allreduce-" + rank);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Connects rank {@code rank} to every other: it accepts the lower ranks on {@code server} and
     * connects to the higher ones at {@code peers}; each side first sends its rank.
     *
     * @param rank this task's rank, 0 ≤ rank &lt; peers.size()
     * @param server this task's listening socket (its port is peers.get(rank)); closed here
     * @param peers every rank's listening address, in rank order
     * @param timeoutMs how long to wait for a peer, in connecting and in each collective
     * @param cancelled true when the task has been killed: waits stop
     * @return the connected group; close it
     * @throws IOException when a peer cannot be reached in time
     */
    static PeerGroup connect(int rank, ServerSocket server, List<InetSocketAddress> peers, long timeoutMs,
            BooleanSupplier cancelled) throws IOException {
        int size = peers.size();
        Socket[] sockets = new Socket[size];
        try (server) {
            long deadline = System.currentTimeMillis() + timeoutMs;
            for (int q = rank + 1; q < size; q++) {
                Socket s = new Socket();
                s.connect(peers.get(q), (int) Math.min(Integer.MAX_VALUE, timeoutMs));
                new DataOutputStream(s.getOutputStream()).writeInt(rank);
                s.getOutputStream().flush();
                sockets[q] = s;
            }
            server.setSoTimeout(1000);
            for (int accepted = 0; accepted < rank;) {
                Socket s;
                try {
                    s = server.accept();
                } catch (SocketTimeoutException e) {
                    checkWait(deadline, cancelled, "waiting for the lower ranks to connect");
                    continue;
                }
                s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMs));
                int q = new DataInputStream(s.getInputStream()).readInt();
                if (q < 0 || q >= rank || sockets[q] != null) {
                    s.close();
                    throw new IOException("receptive-spark all-reduce: rank " + rank + " was connected by rank " + q);
                }
                sockets[q] = s;
                accepted++;
            }
            return new PeerGroup(rank, size, sockets, timeoutMs, cancelled);
        } catch (IOException | RuntimeException e) {
            for (Socket s : sockets) {
                if (s != null) {
                    try {
                        s.close();
                    } catch (IOException ignored) {
                        // closing after a failure
                    }
                }
            }
            throw e;
        }
    }

    private static void checkWait(long deadline, BooleanSupplier cancelled, String what) throws IOException {
        if (cancelled.getAsBoolean()) {
            throw new IOException("receptive-spark all-reduce: the task was cancelled while " + what);
        }
        if (System.currentTimeMillis() > deadline) {
            throw new SocketTimeoutException("receptive-spark all-reduce: timed out " + what);
        }
    }

    /** {@return where chunk c of a vector of m floats starts, for c = 0 … size (size gives m)} */
    static int chunkStart(long m, int size, int c) {
        return (int) (m * c / size);
    }

    int rank() {
        return rank;
    }

    int size() {
        return size;
    }

    /** {@return bytes this task has written to its peers so far (payload and headers)} */
    long bytesSent() {
        return bytesSent;
    }

    /** {@return bytes this task has read from its peers so far} */
    long bytesReceived() {
        return bytesReceived;
    }

    /**
     * Sums {@code v} over the group, each task getting the sum of its own chunk, and gathers every
     * task's {@code header} (a few doubles, such as a loss) unchanged.
     *
     * @param v this task's vector (M floats, the same M everywhere); read only
     * @param header this task's small values, the same count everywhere
     * @param headers filled with every rank's header, in rank order (size × header.length)
     * @return the sum of chunk {@link #rank()} over ranks 0 … P − 1, added in that order
     * @throws IOException when a peer fails, sends something else or the wait times out
     */
    float[] reduceScatter(float[] v, double[] header, double[][] headers) throws IOException {
        int from = chunkStart(v.length, size, rank);
        int to = chunkStart(v.length, size, rank + 1);
        float[][] parts = new float[size][];
        exchange(q -> new Message(header, v, chunkStart(v.length, size, q), chunkStart(v.length, size, q + 1)),
                (q, h, values) -> {
                    headers[q] = h;
                    parts[q] = values;
                }, header.length, q -> to - from);
        headers[rank] = header.clone();
        float[] sum = new float[to - from];
        for (int q = 0; q < size; q++) {
            if (q == 0) {
                if (rank == 0) {
                    System.arraycopy(v, from, sum, 0, sum.length);
                } else {
                    System.arraycopy(parts[0], 0, sum, 0, sum.length);
                }
                continue;
            }
            float[] p = q == rank ? null : parts[q];
            for (int i = 0; i < sum.length; i++) {
                sum[i] += p == null ? v[from + i] : p[i];
            }
        }
        return sum;
    }

    /**
     * Sums a few doubles over the group: every task sends its values to every other, and each adds
     * the P vectors in rank order, so all get the same bits (batch norm's statistics).
     *
     * @param values this task's values, the same count everywhere; overwritten with the sums
     * @throws IOException when a peer fails, sends something else or the wait times out
     */
    void allReduce(double[] values) throws IOException {
        double[][] all = new double[size][];
        float[] none = new float[0];
        exchange(q -> new Message(values, none, 0, 0), (q, h, v) -> all[q] = h, values.length, q -> 0);
        all[rank] = values.clone();
        for (int i = 0; i < values.length; i++) {
            double sum = all[0][i];
            for (int q = 1; q < size; q++) {
                sum += all[q][i];
            }
            values[i] = sum;
        }
    }

    /**
     * Every task's chunk into every task's vector: chunk c of {@code v} comes from rank c.
     *
     * @param v the vector (M floats); this task's chunk is read, the others are overwritten
     * @throws IOException when a peer fails, sends something else or the wait times out
     */
    void allGather(float[] v) throws IOException {
        int m = v.length;
        int from = chunkStart(m, size, rank);
        int to = chunkStart(m, size, rank + 1);
        exchange(q -> new Message(new double[0], v, from, to), (q, h, values) -> System.arraycopy(values, 0, v,
                chunkStart(m, size, q), values.length), 0, q -> chunkStart(m, size, q + 1) - chunkStart(m, size, q));
    }

    private record Message(double[] header, float[] values, int from, int to) {
    }

    private interface MessageFor {
        Message to(int peer);
    }

    private interface Receiver {
        void received(int peer, double[] header, float[] values) throws IOException;
    }

    /**
     * Sends {@code messages.to(q)} to every peer q on the sender threads while reading one message
     * from every peer in rank order on this thread. A message is: int header count, int value
     * count, the doubles, the floats (little-endian).
     */
    private void exchange(MessageFor messages, Receiver receiver, int headerCount, IntUnaryOperator expectedValues)
            throws IOException {
        List<Future<?>> sends = new ArrayList<>();
        for (int q = 0; q < size; q++) {
            if (q == rank) {
                continue;
            }
            int peer = q;
            Message msg = messages.to(q);
            sends.add(senders.submit(() -> {
                send(peer, msg);
                return null;
            }));
        }
        try {
            for (int q = 0; q < size; q++) {
                if (q == rank) {
                    continue;
                }
                byte[] head = readFully(q, 8);
                ByteBuffer hb = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
                int hc = hb.getInt();
                int vc = hb.getInt();
                int expected = expectedValues.applyAsInt(q);
                if (hc != headerCount || vc != expected || vc < 0) {
                    throw new IOException("receptive-spark all-reduce: rank " + rank + " expected " + headerCount
                            + " header values and " + expected + " floats from rank " + q + ", got " + hc + " and " + vc);
                }
                byte[] body = readFully(q, hc * 8 + vc * 4);
                ByteBuffer bb = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
                double[] h = new double[hc];
                bb.asDoubleBuffer().get(h);
                bb.position(hc * 8);
                float[] values = new float[vc];
                bb.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
                receiver.received(q, h, values);
            }
            for (Future<?> f : sends) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("receptive-spark all-reduce: interrupted", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof IOException io ? io
                    : new IOException("receptive-spark all-reduce: sending failed: " + cause, cause);
        } finally {
            for (Future<?> f : sends) {
                f.cancel(true);
            }
        }
    }

    private void send(int peer, Message msg) throws IOException {
        int hc = msg.header().length;
        int vc = msg.to() - msg.from();
        int bytes = 8 + hc * 8 + vc * 4;
        byte[] buf = sendBuffers[peer];
        if (buf.length < bytes) {
            buf = new byte[bytes];
            sendBuffers[peer] = buf;
        }
        ByteBuffer b = ByteBuffer.wrap(buf, 0, bytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(hc).putInt(vc);
        for (double d : msg.header()) {
            b.putDouble(d);
        }
        b.asFloatBuffer().put(msg.values(), msg.from(), vc);
        out[peer].write(buf, 0, bytes);
        out[peer].flush();
        synchronized (this) {
            bytesSent += bytes;
        }
    }

    private byte[] readFully(int peer, int n) throws IOException {
        byte[] buf = new byte[n];
        long deadline = System.currentTimeMillis() + timeoutMs;
        int done = 0;
        while (done < n) {
            int r;
            try {
                r = in[peer].read(buf, done, n - done);
            } catch (SocketTimeoutException e) {
                checkWait(deadline, cancelled, "reading from rank " + peer);
                continue;
            }
            if (r < 0) {
                throw new IOException("receptive-spark all-reduce: rank " + peer + " closed the connection to rank "
                        + rank + " (its task failed or was killed)");
            }
            done += r;
        }
        synchronized (this) {
            bytesReceived += n;
        }
        return buf;
    }

    /** Closes every socket and stops the sender threads. */
    @Override
    public void close() {
        senders.shutdownNow();
        for (Socket s : sockets) {
            if (s != null) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // nothing to do on close
                }
            }
        }
    }
}
