package dev.receptive.backend.cuda.internal;

import jcuda.jcublas.JCublas2;
import jcuda.libraryPropertyType;

/** Loads JCublas2 as the backend does and prints the cuBLAS version it reports: run in a child JVM by the loader tests. */
public final class CublasVersion {
    private CublasVersion() {
    }

    /**
     * Prints "cuBLAS MAJOR.MINOR.PATCH".
     *
     * @param args none
     */
    public static void main(String[] args) {
        int[] v = new int[3];
        int[] part = new int[1];
        int[] which = {libraryPropertyType.MAJOR_VERSION, libraryPropertyType.MINOR_VERSION, libraryPropertyType.PATCH_LEVEL};
        for (int i = 0; i < 3; i++) {
            JCublas2.cublasGetProperty(which[i], part);
            v[i] = part[0];
        }
        System.out.println("cuBLAS " + v[0] + "." + v[1] + "." + v[2]);
    }
}
