package dev.receptive.backend.cuda;

/** Prints what the probe (and so doctor) finds: run in a child JVM by the tests that set up its libraries. */
public final class CudaProbePrinter {
    private CudaProbePrinter() {
    }

    /**
     * Prints every fact and problem, one per line.
     *
     * @param args none
     */
    public static void main(String[] args) {
        CudaProbe probe = CudaProbe.probe();
        probe.facts().forEach((k, v) -> System.out.println("fact: " + k + ": " + v));
        probe.problems().forEach(p -> System.out.println("problem: " + p));
    }
}
