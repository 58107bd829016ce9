package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The collectives of {@link PeerGroup} between threads of one JVM on loopback, against a naive
 * reference: each chunk's sum added in rank order on one thread, and the bytes each task sends
 * counted from the message format (2(P − 1)/P × the vector's bytes, plus frame heads).
 */
class PeerGroupTest {

    @Test
    void reduceScatterAddsInRankOrderAndAllGatherCopiesEveryChunk() throws Exception {
        for (int size : new int[] {1, 2, 3, 5}) {
            check(size, 1003); // not a multiple of any size: chunks differ in length
        }
    }

    @Test
    void vectorsLargerThanTheSocketBuffersArriveInPiecesAndAddTheSame() throws Exception {
        check(3, 3_000_001); // 4 MB a chunk: every read and write is partial
    }

    @Test
    void aPeerThatGoesAwayIsNamed() throws Exception {
        IOException e = assertThrows(IOException.class, () -> withTwo(20_000, () -> false, g -> g.close()));
        // Rank 1 may go before or after rank 0's message reaches it: a closed stream or a reset connection.
        assertTrue(e.getMessage().contains("rank 1") && e.getMessage().contains("(its task failed or was killed)"),
                e.getMessage());
    }

    @Test
    void aCancelledTaskStopsWaitingForASilentPeer() throws Exception {
        long start = System.nanoTime();
        IOException e = assertThrows(IOException.class,
                () -> withTwo(60_000, () -> System.nanoTime() - start > 300_000_000L, g -> Thread.sleep(5_000)));
        assertTrue(e.getMessage().contains("rank 0 was cancelled while waiting for rank 1"), e.getMessage());
        assertTrue(System.nanoTime() - start < 4_000_000_000L, "stopped within about a second of the cancel");
    }

    @Test
    void aSilentPeerTimesOut() throws Exception {
        IOException e = assertThrows(SocketTimeoutException.class, () -> withTwo(1_500, () -> false,
                g -> Thread.sleep(5_000)));
        assertTrue(e.getMessage().contains("rank 0 timed out after 1500 ms without progress, waiting for rank 1"),
                e.getMessage());
    }

    private interface PeerAction {
        void run(PeerGroup g) throws Exception;
    }

    /** Rank 0 reduce-scatters with rank 1, which does {@code peer} instead; rank 0's failure is thrown. */
    private static void withTwo(long timeoutMs, java.util.function.BooleanSupplier cancelled, PeerAction peer)
            throws Exception {
        List<ServerSocketChannel> servers = new ArrayList<>();
        List<InetSocketAddress> peers = new ArrayList<>();
        for (int q = 0; q < 2; q++) {
            ServerSocketChannel s = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 2);
            servers.add(s);
            peers.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), s.socket().getLocalPort()));
        }
        ExecutorService pool = Executors.newFixedThreadPool(1);
        try {
            Future<?> other = pool.submit(() -> {
                try (PeerGroup g = PeerGroup.connect(1, servers.get(1), peers, 20_000, () -> false)) {
                    peer.run(g);
                }
                return null;
            });
            try (PeerGroup g = PeerGroup.connect(0, servers.get(0), peers, timeoutMs, cancelled)) {
                g.reduceScatter(new float[10], new double[0], new double[2][]);
            } finally {
                other.cancel(true);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void check(int size, int m) throws Exception {
        float[][] v = new float[size][m];
        Random r = new Random(size);
        for (float[] row : v) {
            for (int i = 0; i < m; i++) {
                row[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3)); // rounding matters
            }
        }
        List<ServerSocketChannel> servers = new ArrayList<>();
        List<InetSocketAddress> peers = new ArrayList<>();
        for (int q = 0; q < size; q++) {
            ServerSocketChannel s = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), size);
            servers.add(s);
            peers.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), s.socket().getLocalPort()));
        }
        ExecutorService pool = Executors.newFixedThreadPool(size);
        try {
            List<Future<Object[]>> futures = new ArrayList<>();
            for (int q = 0; q < size; q++) {
                int rank = q;
                futures.add(pool.submit(() -> {
                    try (PeerGroup g = PeerGroup.connect(rank, servers.get(rank), peers, 20_000, () -> false)) {
                        double[][] headers = new double[size][];
                        float[] sum = g.reduceScatter(v[rank], new double[] {rank * 10.5, -rank}, headers);
                        float[] whole = new float[m];
                        int from = PeerGroup.chunkStart(m, size, rank);
                        System.arraycopy(sum, 0, whole, from, sum.length);
                        g.allGather(whole);
                        return new Object[] {sum, headers, whole, g.bytesSent(), g.bytesReceived()};
                    }
                }));
            }
            long totalSent = 0;
            float[] expected = new float[m];
            for (int i = 0; i < m; i++) {
                float s = v[0][i];
                for (int q = 1; q < size; q++) {
                    s += v[q][i];
                }
                expected[i] = s;
            }
            for (int q = 0; q < size; q++) {
                Object[] got = futures.get(q).get();
                int from = PeerGroup.chunkStart(m, size, q);
                int to = PeerGroup.chunkStart(m, size, q + 1);
                assertArrayEquals(java.util.Arrays.copyOfRange(expected, from, to), (float[]) got[0],
                        size + " tasks, rank " + q + ": its chunk summed in rank order, bit for bit");
                assertArrayEquals(expected, (float[]) got[2], size + " tasks, rank " + q + ": all chunks gathered");
                double[][] headers = (double[][]) got[1];
                for (int p = 0; p < size; p++) {
                    assertArrayEquals(new double[] {p * 10.5, -p}, headers[p], "header of rank " + p);
                }
                long sent = 0;
                for (int p = 0; p < size; p++) {
                    if (p != q) {
                        int chunkP = PeerGroup.chunkStart(m, size, p + 1) - PeerGroup.chunkStart(m, size, p);
                        sent += 8 + 2 * 8 + 4L * chunkP; // reduce-scatter: chunk p to rank p, with the header
                        sent += 8 + 4L * (to - from); // all-gather: own chunk to every peer
                    }
                }
                assertEquals(sent, (long) got[3], "bytes sent by rank " + q);
                totalSent += sent - (size - 1) * (2 * 8 + 2 * 8L); // payload only: no frame heads or headers
            }
            // Over all tasks: every chunk leaves its P − 1 other holders once and comes back to them once.
            assertEquals(2L * (size - 1) * 4 * m, totalSent, size + " tasks: 2(P − 1) × the vector's bytes in all");
        } finally {
            pool.shutdownNow();
        }
    }
}
