package dev.receptive.backend.cuda;

/**
 * The one exception for native GPU failures: names the op, the shapes of its tensors and the
 * library's own message (CUDA driver, cuDNN or cuBLAS). Kernel faults are reported by the CUDA
 * driver at the next call that waits for the device, so the op named may be a later one.
 */
public final class GpuException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * A failure described in full by its message.
     *
     * @param message what failed and how to fix it
     */
    public GpuException(String message) {
        super(message);
    }

    /**
     * A failure of one op: "op [shapes]: library message".
     *
     * @param op the op or call that failed, e.g. "conv2dForward"
     * @param shapes its tensors' shapes, e.g. "[(8, 1, 28, 28), (32, 1, 5, 5)]", or empty
     * @param libraryMessage the CUDA driver's, cuDNN's or cuBLAS's own message
     * @param cause the library's exception
     */
    public GpuException(String op, String shapes, String libraryMessage, Throwable cause) {
        super(op + (shapes.isEmpty() ? "" : " " + shapes) + ": " + libraryMessage, cause);
    }
}
