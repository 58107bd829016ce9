package dev.receptive.spark;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Where the P tasks of one all-reduce stage attempt learn each other's listening addresses: a
 * socket the driver opens for the attempt, to which every task sends its rank and address and
 * from which it gets back all P addresses once all have arrived.
 *
 * <p>Spark's own {@code BarrierTaskContext.allGather} does the same, but it answers after at least
 * a second (it waits for its coordinator's reply in one-second sleeps), once per stage; this costs
 * a few milliseconds. The attempt's random token keeps stray or late connections (a previous
 * attempt's task) out. The driver must be reachable from the executors on this port, as it is on
 * Spark's own driver and block manager ports: {@code spark.receptive.rendezvous.port} fixes it
 * (default 0: any free port), like {@code spark.driver.port}.
 *
 * <p>Wire format: the task sends long token, int rank, UTF host, int port; the driver answers int
 * P, then P × (UTF host, int port) in rank order, and closes.
 */
final class Rendezvous implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Rendezvous.class.getName());
    private static final SecureRandom TOKENS = new SecureRandom();
    /** How long the driver waits for a connected task to say who it is. */
    private static final int HELLO_TIMEOUT_MS = 10_000;

    /**
     * What a task needs to join: the driver's address and the attempt's token.
     *
     * @param host the driver's host
     * @param port the rendezvous port
     * @param token the attempt's token
     */
    record Ticket(String host, int port, long token) implements Serializable {
    }

    private final ServerSocket server;
    private final Ticket ticket;
    private final int size;
    private final Thread thread;
    private volatile boolean closed;

    /**
     * Opens the rendezvous of one stage attempt of {@code size} tasks and starts answering.
     *
     * @param host the driver's host, as the executors reach it ({@code spark.driver.host})
     * @param port the port to listen on, 0 for any free one
     * @param size the number of tasks
     * @throws IOException when the port cannot be opened
     */
    Rendezvous(String host, int port, int size) throws IOException {
        this.server = new ServerSocket(port, Math.max(50, size), InetAddress.getByName(host));
        this.size = size;
        this.ticket = new Ticket(host, server.getLocalPort(), TOKENS.nextLong());
        this.thread = new Thread(this::serve, "receptive-rendezvous-" + server.getLocalPort());
        thread.setDaemon(true);
        thread.start();
    }

    /** {@return what the tasks need to join} */
    Ticket ticket() {
        return ticket;
    }

    private void serve() {
        Socket[] tasks = new Socket[size];
        String[] hosts = new String[size];
        int[] ports = new int[size];
        int joined = 0;
        try {
            while (joined < size) {
                Socket s = server.accept();
                try {
                    s.setSoTimeout(HELLO_TIMEOUT_MS);
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    long token = in.readLong();
                    int rank = in.readInt();
                    String host = in.readUTF();
                    int port = in.readInt();
                    if (token != ticket.token() || rank < 0 || rank >= size || tasks[rank] != null || port < 1
                            || port > 65_535) {
                        LOG.log(System.Logger.Level.WARNING, "receptive-spark rendezvous: refused a connection from "
                                + s.getRemoteSocketAddress() + " (another stage's, or a rank already taken)");
                        s.close();
                        continue;
                    }
                    tasks[rank] = s;
                    hosts[rank] = host;
                    ports[rank] = port;
                    joined++;
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "receptive-spark rendezvous: a connection from "
                            + s.getRemoteSocketAddress() + " failed before saying who it is: " + e.getMessage());
                    s.close();
                }
            }
            for (Socket s : tasks) {
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                out.writeInt(size);
                for (int q = 0; q < size; q++) {
                    out.writeUTF(hosts[q]);
                    out.writeInt(ports[q]);
                }
                out.flush();
            }
        } catch (IOException e) {
            if (!closed) {
                LOG.log(System.Logger.Level.WARNING, "receptive-spark rendezvous: stopped: " + e.getMessage());
            }
        } finally {
            for (Socket s : tasks) {
                closeQuietly(s);
            }
        }
    }

    /**
     * A task's side: sends its rank and address and waits for every task's.
     *
     * @param ticket the driver's rendezvous
     * @param rank the task's rank
     * @param size the number of tasks
     * @param self where this task listens
     * @param timeoutMs how long to wait for the others
     * @param cancelled true when the task has been killed: the wait stops
     * @return every task's listening address, in rank order
     * @throws IOException when the driver cannot be reached or the others do not come in time
     */
    static List<InetSocketAddress> join(Ticket ticket, int rank, int size, InetSocketAddress self, long timeoutMs,
            BooleanSupplier cancelled) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(ticket.host(), ticket.port()), (int) Math.min(Integer.MAX_VALUE, timeoutMs));
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeLong(ticket.token());
            out.writeInt(rank);
            out.writeUTF(self.getHostString());
            out.writeInt(self.getPort());
            out.flush();
            s.setSoTimeout(1000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            long deadline = System.currentTimeMillis() + timeoutMs;
            int n;
            while (true) {
                try {
                    n = in.readInt(); // the first byte takes as long as the slowest task
                    break;
                } catch (SocketTimeoutException e) {
                    if (cancelled.getAsBoolean()) {
                        throw new IOException("receptive-spark all-reduce: rank " + rank + " was cancelled while"
                                + " waiting for the other tasks at the driver's rendezvous");
                    }
                    if (System.currentTimeMillis() > deadline) {
                        throw new SocketTimeoutException("receptive-spark all-reduce: rank " + rank + " waited "
                                + timeoutMs + " ms for the other tasks at the driver's rendezvous");
                    }
                }
            }
            if (n != size) {
                throw new IOException("receptive-spark all-reduce: the rendezvous answered " + n + " tasks, expected "
                        + size);
            }
            s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMs));
            List<InetSocketAddress> peers = new ArrayList<>();
            for (int q = 0; q < n; q++) {
                String host = in.readUTF();
                peers.add(new InetSocketAddress(host, in.readInt()));
            }
            return peers;
        }
    }

    /** Stops answering; tasks still waiting see their connection closed. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing on the way out
            }
        }
    }
}
