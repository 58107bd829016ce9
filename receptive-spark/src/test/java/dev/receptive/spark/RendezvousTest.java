package dev.receptive.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The driver's rendezvous of an all-reduce stage attempt, with tasks as threads on loopback:
 * every task gets every address in rank order, whatever order they come in; a connection with
 * another attempt's token takes no rank; a task left waiting stops when cancelled.
 */
class RendezvousTest {

    @Test
    void everyTaskGetsEveryAddressInRankOrder() throws Exception {
        int size = 4;
        ExecutorService pool = Executors.newFixedThreadPool(size);
        try (Rendezvous r = new Rendezvous("127.0.0.1", 0, size)) {
            // A stray connection first: another attempt's token, claiming rank 0.
            Rendezvous.Ticket stale = new Rendezvous.Ticket("127.0.0.1", r.ticket().port(), r.ticket().token() + 1);
            assertThrows(IOException.class, () -> Rendezvous.join(stale, 0, size,
                    new InetSocketAddress("127.0.0.1", 999), 5_000, () -> false));
            List<Future<List<InetSocketAddress>>> joined = new ArrayList<>();
            for (int rank : new int[] {2, 0, 3, 1}) {
                joined.add(pool.submit(() -> Rendezvous.join(r.ticket(), rank, size,
                        new InetSocketAddress("127.0.0.1", 40_000 + rank), 20_000, () -> false)));
            }
            for (Future<List<InetSocketAddress>> f : joined) {
                List<InetSocketAddress> peers = f.get();
                assertEquals(size, peers.size());
                for (int q = 0; q < size; q++) {
                    assertEquals(40_000 + q, peers.get(q).getPort(), "rank " + q + "'s port");
                    assertEquals("127.0.0.1", peers.get(q).getHostString());
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aTaskWaitingForAMissingOneStopsWhenCancelled() throws Exception {
        try (Rendezvous r = new Rendezvous("127.0.0.1", 0, 2)) {
            long start = System.nanoTime();
            IOException e = assertThrows(IOException.class, () -> Rendezvous.join(r.ticket(), 0, 2,
                    new InetSocketAddress("127.0.0.1", 40_000), 60_000, () -> System.nanoTime() - start > 300_000_000L));
            assertTrue(e.getMessage().contains("rank 0 was cancelled"), e.getMessage());
            assertTrue(System.nanoTime() - start < 5_000_000_000L, "stopped within about a second of the cancel");
        }
    }
}
