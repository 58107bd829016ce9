package dev.receptive.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import jcuda.CudaException;
import org.junit.jupiter.api.Test;

/**
 * How CudnnConv reports a failed cudnnFind…AlgorithmEx, including the ArrayIndexOutOfBoundsException
 * JCudnn's wrapper throws when cuDNN fails and leaves its result count unwritten. Runs without a GPU:
 * the calls are stand-ins that behave as the wrapper does.
 */
class CudnnFindTest {
    private static final String FIND = "cudnnFindConvolutionForwardAlgorithmEx";
    private static final String DIAGNOSIS = "cudnnGetConvolutionForwardWorkspaceSize";

    /** What JCudnn's wrapper throws when the garbage count exceeds the result array. */
    private static int lostStatus() {
        throw new ArrayIndexOutOfBoundsException("Array parameter has insufficient size");
    }

    @Test
    void aLostStatusIsRecoveredFromTheSameDescriptors() {
        AtomicInteger asked = new AtomicInteger();
        CudaException e = assertThrows(CudaException.class, () -> CudnnConv.find(FIND, CudnnFindTest::lostStatus,
                DIAGNOSIS, () -> {
                    asked.incrementAndGet();
                    return 2000;
                }));
        assertEquals(1, asked.get());
        assertTrue(e.getMessage().startsWith("cuDNN " + FIND + " failed; JCudnn lost its status"), e.getMessage());
        assertTrue(e.getMessage().endsWith(DIAGNOSIS + " on the same descriptors returns CUDNN_STATUS_BAD_PARAM (2000)"),
                e.getMessage());
        assertInstanceOf(ArrayIndexOutOfBoundsException.class, e.getCause());
    }

    @Test
    void aLostStatusWithSoundDescriptorsPointsAtTheBenchmarkRun() {
        CudaException e = assertThrows(CudaException.class, () -> CudnnConv.find(FIND, CudnnFindTest::lostStatus,
                DIAGNOSIS, () -> 0));
        assertTrue(e.getMessage().contains("succeeds, so the failure came from running the candidate algorithms"),
                e.getMessage());
        assertTrue(e.getMessage().contains("CUDNN_LOGLEVEL_DBG=1"), e.getMessage());
    }

    @Test
    void aReturnedStatusIsCheckedAndSuccessPasses() {
        CudaException e = assertThrows(CudaException.class, () -> CudnnConv.find(FIND, () -> 3000, DIAGNOSIS, () -> {
            throw new AssertionError("no diagnosis needed when the status came back");
        }));
        assertEquals("cuDNN " + FIND + " failed: CUDNN_STATUS_NOT_SUPPORTED (3000)", e.getMessage());
        CudnnConv.find(FIND, () -> 0, DIAGNOSIS, () -> 0);
    }
}
