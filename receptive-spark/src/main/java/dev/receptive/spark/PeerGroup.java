package dev.receptive.spark;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
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
 * task for both, whatever P, and nothing through the driver.
 *
 * <p>The sockets are non-blocking channels served by one selector on the calling thread: every
 * send and every receive of a collective progress together (no pair of large writes can block
 * each other, and no thread is handed work), from direct buffers kept per peer and grown to the
 * largest message, so the socket buffers are allocated once (a collective allocates only the
 * arrays it returns) and the floats go to and from the socket in bulk copies. A wait asks {@code cancelled} every second (a killed task) and gives up when no byte
 * has moved for the group's timeout.
 *
 * <p>Not thread-safe: one task uses its group.
 */
final class PeerGroup implements AutoCloseable {
    private static final int FRAME_HEAD = 8;

    private final int rank;
    private final int size;
    private final SocketChannel[] channels;
    private final Selector selector;
    private final SelectionKey[] keys;
    private final long timeoutMs;
    private final BooleanSupplier cancelled;
    private final ByteBuffer[] sendBuffers;
    private final ByteBuffer[] heads;
    private final ByteBuffer[] bodies;
    private final boolean[] inBody;
    private float[] scratch = new float[0];
    private long bytesSent;
    private long bytesReceived;

    private PeerGroup(int rank, int size, SocketChannel[] channels, long timeoutMs, BooleanSupplier cancelled)
            throws IOException {
        this.rank = rank;
        this.size = size;
        this.channels = channels;
        this.timeoutMs = timeoutMs;
        this.cancelled = cancelled;
        this.keys = new SelectionKey[size];
        this.sendBuffers = new ByteBuffer[size];
        this.heads = new ByteBuffer[size];
        this.bodies = new ByteBuffer[size];
        this.inBody = new boolean[size];
        this.selector = Selector.open();
        for (int q = 0; q < size; q++) {
            if (q != rank) {
                SocketChannel ch = channels[q];
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.configureBlocking(false);
                keys[q] = ch.register(selector, 0, q);
                sendBuffers[q] = direct(1 << 16);
                heads[q] = direct(FRAME_HEAD);
                bodies[q] = direct(1 << 16);
            }
        }
    }

    private static ByteBuffer direct(int bytes) {
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Connects rank {@code rank} to every other: it accepts the lower ranks on {@code server} and
     * connects to the higher ones at {@code peers}; each side first sends its rank.
     *
     * @param rank this task's rank, 0 ≤ rank &lt; peers.size()
     * @param server this task's listening channel (its port is peers.get(rank)); closed here
     * @param peers every rank's listening address, in rank order
     * @param timeoutMs how long to wait for a peer, in connecting and in each collective
     * @param cancelled true when the task has been killed: waits stop
     * @return the connected group; close it
     * @throws IOException when a peer cannot be reached in time
     */
    static PeerGroup connect(int rank, ServerSocketChannel server, List<InetSocketAddress> peers, long timeoutMs,
            BooleanSupplier cancelled) throws IOException {
        int size = peers.size();
        SocketChannel[] channels = new SocketChannel[size];
        try (server) {
            long deadline = System.currentTimeMillis() + timeoutMs;
            int timeout = (int) Math.min(Integer.MAX_VALUE, timeoutMs);
            for (int q = rank + 1; q < size; q++) {
                SocketChannel ch = SocketChannel.open();
                channels[q] = ch;
                ch.socket().connect(peers.get(q), timeout);
                ch.write(ByteBuffer.allocate(4).putInt(0, rank));
            }
            server.configureBlocking(true);
            server.socket().setSoTimeout(1000);
            for (int accepted = 0; accepted < rank;) {
                SocketChannel ch;
                try {
                    ch = server.socket().accept().getChannel();
                } catch (SocketTimeoutException e) {
                    checkWait(deadline, cancelled, "waiting for the lower ranks to connect");
                    continue;
                }
                ch.socket().setSoTimeout(timeout);
                int q = new DataInputStream(ch.socket().getInputStream()).readInt();
                if (q < 0 || q >= rank || channels[q] != null) {
                    ch.close();
                    throw new IOException("receptive-spark all-reduce: rank " + rank + " was connected by rank " + q);
                }
                channels[q] = ch;
                accepted++;
            }
            return new PeerGroup(rank, size, channels, timeoutMs, cancelled);
        } catch (IOException | RuntimeException e) {
            for (SocketChannel ch : channels) {
                if (ch != null) {
                    try {
                        ch.close();
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
        int n = to - from;
        exchange(q -> header, v, q -> chunkStart(v.length, size, q), q -> chunkStart(v.length, size, q + 1),
                header.length, q -> n);
        float[] sum = new float[n];
        if (scratch.length < n) {
            scratch = new float[n];
        }
        for (int q = 0; q < size; q++) {
            float[] part;
            if (q == rank) {
                headers[q] = header.clone();
                part = null;
            } else {
                ByteBuffer body = bodies[q];
                double[] h = new double[header.length];
                body.asDoubleBuffer().get(h);
                headers[q] = h;
                body.position(8 * header.length);
                body.asFloatBuffer().get(scratch, 0, n);
                part = scratch;
            }
            if (q == 0) {
                System.arraycopy(part == null ? v : part, part == null ? from : 0, sum, 0, n);
            } else if (part == null) {
                for (int i = 0; i < n; i++) {
                    sum[i] += v[from + i];
                }
            } else {
                for (int i = 0; i < n; i++) {
                    sum[i] += part[i];
                }
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
        double[] own = values.clone();
        float[] none = new float[0];
        exchange(q -> own, none, q -> 0, q -> 0, values.length, q -> 0);
        double[] h = new double[values.length];
        for (int q = 0; q < size; q++) {
            double[] part = own;
            if (q != rank) {
                bodies[q].asDoubleBuffer().get(h);
                part = h;
            }
            for (int i = 0; i < values.length; i++) {
                values[i] = q == 0 ? part[i] : values[i] + part[i];
            }
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
        double[] none = new double[0];
        exchange(q -> none, v, q -> from, q -> to, 0, q -> chunkStart(m, size, q + 1) - chunkStart(m, size, q));
        for (int q = 0; q < size; q++) {
            if (q != rank) {
                int at = chunkStart(m, size, q);
                bodies[q].asFloatBuffer().get(v, at, chunkStart(m, size, q + 1) - at);
            }
        }
    }

    /**
     * Moves one vector between two peers: sends {@code mine} to rank {@code to} and receives
     * {@code expected} floats from rank {@code from}; either may be this task's rank, for which
     * nothing moves (the stages' hand-over of optimizer-state chunks among tasks that changed
     * executors).
     *
     * @return what {@code from} sent, or null when from is this rank
     * @throws IOException when a peer fails, sends something else or the wait times out
     */
    float[] swap(float[] mine, int to, int from, int expected) throws IOException {
        double[] none = new double[0];
        exchange(q -> q == to, q -> q == from, q -> none, mine, q -> 0, q -> mine.length, 0, q -> expected);
        if (from == rank) {
            return null;
        }
        float[] got = new float[expected];
        bodies[from].asFloatBuffer().get(got);
        return got;
    }

    private interface HeaderFor {
        double[] to(int peer);
    }

    /**
     * Sends to every peer q the message {@code header.to(q)} and floats {@code values[from(q) …
     * to(q))}, and receives one message from every peer into {@code bodies[q]} (its doubles then
     * its floats, positioned at 0), checking that it holds {@code headerCount} doubles and
     * {@code expectedValues(q)} floats. A message is: int header count, int value count, the
     * doubles, the floats (little-endian). All of it moves on this thread, through the selector.
     */
    private void exchange(HeaderFor header, float[] values, IntUnaryOperator from, IntUnaryOperator to,
            int headerCount, IntUnaryOperator expectedValues) throws IOException {
        exchange(q -> q != rank, q -> q != rank, header, values, from, to, headerCount, expectedValues);
    }

    /** As above, sending only to the peers {@code sendTo} accepts and receiving only from those {@code receiveFrom} does. */
    private void exchange(java.util.function.IntPredicate sendTo, java.util.function.IntPredicate receiveFrom,
            HeaderFor header, float[] values, IntUnaryOperator from, IntUnaryOperator to, int headerCount,
            IntUnaryOperator expectedValues) throws IOException {
        int pending = 0;
        for (int q = 0; q < size; q++) {
            if (q == rank) {
                continue;
            }
            int ops = 0;
            if (receiveFrom.test(q)) {
                heads[q].clear();
                inBody[q] = false;
                ops |= SelectionKey.OP_READ;
                pending++;
            }
            if (!sendTo.test(q)) {
                keys[q].interestOps(ops);
                continue;
            }
            double[] h = header.to(q);
            int f = from.applyAsInt(q);
            int vc = to.applyAsInt(q) - f;
            int bytes = FRAME_HEAD + 8 * h.length + 4 * vc;
            ByteBuffer b = sendBuffers[q];
            if (b.capacity() < bytes) {
                b = direct(bytes);
                sendBuffers[q] = b;
            }
            b.clear();
            b.putInt(h.length).putInt(vc);
            for (double d : h) {
                b.putDouble(d);
            }
            b.asFloatBuffer().put(values, f, vc);
            b.position(b.position() + 4 * vc).flip();
            keys[q].interestOps(ops | SelectionKey.OP_WRITE);
            pending++;
        }
        long lastProgress = System.currentTimeMillis();
        while (pending > 0) {
            if (selector.select(1000) == 0) {
                if (cancelled.getAsBoolean()) {
                    throw new IOException("receptive-spark all-reduce: rank " + rank + " was cancelled while "
                            + waitingFor());
                }
                if (System.currentTimeMillis() - lastProgress > timeoutMs) {
                    throw new SocketTimeoutException("receptive-spark all-reduce: rank " + rank + " timed out after "
                            + timeoutMs + " ms without progress, " + waitingFor());
                }
                continue;
            }
            for (SelectionKey key : selector.selectedKeys()) {
                int q = (Integer) key.attachment();
                try {
                    pending -= move(key, q, headerCount, expectedValues.applyAsInt(q));
                } catch (IOException e) {
                    throw e.getMessage() != null && e.getMessage().startsWith("receptive-spark") ? e
                            : new IOException("receptive-spark all-reduce: the connection between rank " + rank
                                    + " and rank " + q + " failed (its task failed or was killed): " + e.getMessage(), e);
                }
            }
            selector.selectedKeys().clear();
            lastProgress = System.currentTimeMillis();
        }
    }

    /** Writes and reads what the channel of peer q is ready for; {@return how many of its two transfers ended} */
    private int move(SelectionKey key, int q, int headerCount, int expected) throws IOException {
        int ended = 0;
        if (key.isValid() && key.isWritable()) {
            ByteBuffer b = sendBuffers[q];
            channels[q].write(b);
            if (!b.hasRemaining()) {
                key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
                bytesSent += b.limit();
                ended++;
            }
        }
        if (key.isValid() && key.isReadable() && receive(q, headerCount, expected)) {
            key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
            ended++;
        }
        return ended;
    }

    /** Reads what peer q has sent of its message; true when the whole message is in. */
    private boolean receive(int q, int headerCount, int expected) throws IOException {
        ByteBuffer target = inBody[q] ? bodies[q] : heads[q];
        int r = channels[q].read(target);
        if (r < 0) {
            throw new IOException("receptive-spark all-reduce: rank " + q + " closed the connection to rank " + rank
                    + " (its task failed or was killed)");
        }
        if (target.hasRemaining()) {
            return false;
        }
        if (!inBody[q]) {
            ByteBuffer head = heads[q];
            int hc = head.getInt(0);
            int vc = head.getInt(4);
            if (hc != headerCount || vc != expected) {
                throw new IOException("receptive-spark all-reduce: rank " + rank + " expected " + headerCount
                        + " header values and " + expected + " floats from rank " + q + ", got " + hc + " and " + vc);
            }
            int bytes = 8 * hc + 4 * vc;
            if (bodies[q].capacity() < bytes) {
                bodies[q] = direct(bytes);
            }
            bodies[q].clear().limit(bytes);
            inBody[q] = true;
            bytesReceived += FRAME_HEAD;
            if (bytes > 0) {
                return receive(q, headerCount, expected);
            }
        }
        ByteBuffer body = bodies[q];
        bytesReceived += body.limit();
        body.flip();
        return true;
    }

    /** {@return the peers this task still waits for, for an error message} */
    private String waitingFor() {
        StringBuilder sb = new StringBuilder("waiting for");
        for (int q = 0; q < size; q++) {
            if (q != rank && keys[q].isValid() && keys[q].interestOps() != 0) {
                sb.append(" rank ").append(q);
            }
        }
        return sb.toString();
    }

    /** Closes every socket and the selector. */
    @Override
    public void close() {
        for (SocketChannel ch : channels) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // nothing to do on close
                }
            }
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // nothing to do on close
        }
    }
}
