package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.Test;

/** The probe never throws and turns every missing piece into a fix; runs with or without a GPU. */
class CudaProbeTest {
    @Test
    void probeNeverThrowsAndExplainsItself() {
        CudaProbe probe = CudaProbe.probe();
        assertTrue(probe.facts().containsKey("JCuda"), probe.facts().toString());
        assertEquals(probe.available(), probe.problems().isEmpty());
        assertFalse(probe.reason().isBlank());
        assertTrue(CudaProbe.probe() == probe, "the probe runs once per JVM");
    }

    @Test
    void withoutAGpuEveryProblemNamesItsFix() {
        CudaProbe probe = CudaProbe.probe();
        assumeFalse(probe.available(), "this machine has a working GPU");
        for (String problem : probe.problems()) {
            assertTrue(problem.contains("install") || problem.contains("update") || problem.contains("check")
                    || problem.contains("LD_LIBRARY_PATH"), "no fix in: " + problem);
        }
    }

    @Test
    void dynamicLoaderMessagesBecomeFixes() {
        String jcuda = "Error while loading native library \"JCudnn-12.6.0-linux-x86_64\"\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudnn-12.6.0-linux-x86_64.so: libcudnn.so.9: cannot open"
                + " shared object file: No such file or directory";
        String fix = CudaProbe.linkProblem("JCudnn", new UnsatisfiedLinkError(jcuda));
        assertTrue(fix.startsWith("libcudnn.so.9 not found: install cuDNN 9"), fix);
        assertTrue(CudaProbe.linkProblem("JCudaDriver", new UnsatisfiedLinkError(
                "/tmp/x.so: libcuda.so.1: cannot open shared object file")).contains("NVIDIA driver >= 525"));
        assertTrue(CudaProbe.linkProblem("JCublas2", new UnsatisfiedLinkError(
                "/tmp/x.so: libcublas.so.12: cannot open shared object file")).contains("gpu-bundle.sh"));
        String version = CudaProbe.linkProblem("JCublas2", new UnsatisfiedLinkError(
                "/tmp/x.so: /usr/lib/libcublas.so.12: version `libcublas.so.12' not found (required by /tmp/x.so)"));
        assertTrue(version.contains("version libcublas.so.12"), version);
        // JCuda's LibUtils reports both attempts: the retargeted native on java.library.path, then the jar's.
        String bundle = CudaProbe.linkProblem("JCublas2", new UnsatisfiedLinkError(
                "Error while loading native library \"JCublas2-12.6.0-linux-x86_64\"\n"
                + "Stack trace from the attempt to load the library as a file:\n"
                + "java.lang.UnsatisfiedLinkError: /out/natives/libJCublas2-12.6.0-linux-x86_64.so:"
                + " /pip/nvidia/cu13/lib/libcublas.so.13: version `libcublas.so.13' not found\n"
                + "Stack trace from the attempt to load the library as a resource:\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCublas2-12.6.0-linux-x86_64.so: libcublas.so.12:"
                + " cannot open shared object file: No such file or directory"));
        assertTrue(bundle.contains("version libcublas.so.13"), bundle);
        // Neither a missing file nor a version: the loader's own words, not JCuda's first line.
        String other = CudaProbe.linkProblem("JCudaDriver", new UnsatisfiedLinkError(
                "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Stack trace from the attempt to load the library as a file:\n"
                + "java.lang.UnsatisfiedLinkError: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /x\n"
                + "\tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2458)\n"
                + "Stack trace from the attempt to load the library as a resource:\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver.so: undefined symbol: cuFoo"));
        assertEquals("JCudaDriver could not be loaded: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /x;"
                + " /tmp/libJCudaDriver.so: undefined symbol: cuFoo; check that the JCuda jars are complete and"
                + " LD_LIBRARY_PATH", other);
        assertTrue(CudaProbe.cudaProblem("CUDA_ERROR_NO_DEVICE").contains("CUDA_VISIBLE_DEVICES"));
        assertTrue(CudaProbe.cudaProblem("CUDA_ERROR_UNSUPPORTED_PTX_VERSION").contains(">= 525"));
    }

    @Test
    void versionsAndCudnnStatusesAreSpelledOut() {
        assertEquals("9.5.0", CudaProbe.libraryVersion(90500));
        assertEquals("12.6.4", CudaProbe.libraryVersion(120604));
        assertEquals("12.6", CudaProbe.cudaVersion(12060));
        assertEquals("13.0", CudaProbe.cudaVersion(13000));
        // cuDNN 9 numbering, not the cuDNN 8 one of the JCudnn 11.7 Java constants (where 3 is BAD_PARAM).
        assertEquals("CUDNN_STATUS_BAD_PARAM (2000)", CudnnStatus.describe(2000));
        assertEquals("CUDNN_STATUS_NOT_SUPPORTED_SHAPE (3002)", CudnnStatus.describe(3002));
        assertEquals("CUDNN_STATUS_EXECUTION_FAILED (5099)", CudnnStatus.describe(5099));
        assertTrue(CudnnStatus.describe(1008).contains("LD_LIBRARY_PATH"));
        // JCudnn's own -1 is not cuDNN's SUCCESS (0), and small unknown codes are not SUCCESS either.
        assertEquals("JCUDNN_STATUS_INTERNAL_ERROR (-1): the JCudnn wrapper failed around the cuDNN call, whose own"
                + " status is unknown", CudnnStatus.describe(-1));
        assertEquals("unknown cuDNN status (7)", CudnnStatus.describe(7));
    }
}
