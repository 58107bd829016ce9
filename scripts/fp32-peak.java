/*
 * The machine's fp32 peak as the JVM reaches it: 12 independent fused multiply-add chains on
 * the preferred vector (FloatVector.SPECIES_PREFERRED), on 1 thread and then on every core.
 * The denominator of the "fraction of peak" figures in docs/benchmarks.md.
 *
 *   java --add-modules jdk.incubator.vector scripts/fp32-peak.java [seconds per figure]
 */
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.DoubleAdder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

public class Fp32Peak {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** 2 · lanes · 12 flop per iteration, in one flat loop (vectors stay in registers). */
    static float chains(long iterations) {
        FloatVector a = FloatVector.broadcast(S, 1.0001f);
        FloatVector b = FloatVector.broadcast(S, 0.9999f);
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        FloatVector c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++) {
            c0 = a.fma(b, c0);
            c1 = a.fma(b, c1);
            c2 = a.fma(b, c2);
            c3 = a.fma(b, c3);
            c4 = a.fma(b, c4);
            c5 = a.fma(b, c5);
            c6 = a.fma(b, c6);
            c7 = a.fma(b, c7);
            c8 = a.fma(b, c8);
            c9 = a.fma(b, c9);
            c10 = a.fma(b, c10);
            c11 = a.fma(b, c11);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }

    /** Best of several timed runs on `threads` threads, in GFLOP/s. */
    static double measure(int threads, double seconds) throws InterruptedException {
        long iterations = 20_000_000L;
        double best = 0;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            List<Thread> all = new ArrayList<>();
            DoubleAdder sink = new DoubleAdder();
            long t0 = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                Thread th = new Thread(() -> sink.add(chains(iterations)));
                th.start();
                all.add(th);
            }
            for (Thread th : all) {
                th.join();
            }
            double s = (System.nanoTime() - t0) / 1e9;
            best = Math.max(best, threads * iterations * 12.0 * S.length() * 2 / s / 1e9);
        }
        return best;
    }

    public static void main(String[] args) throws InterruptedException {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
        int cores = Runtime.getRuntime().availableProcessors();
        measure(1, 1); // warm-up: the loop must be compiled by C2 before it is timed
        System.out.printf("species %s%n", S);
        System.out.printf("fp32 peak, 1 thread:  %.1f GFLOP/s%n", measure(1, seconds));
        System.out.printf("fp32 peak, %d threads: %.1f GFLOP/s%n", cores, measure(cores, seconds));
    }
}
