package dev.receptive.backend.cuda;

/**
 * The one exception for native GPU failures: names the op, the shapes of its tensors and the
 * library's own message (CUDA driver, cuDNN or cuBLAS). Kernel faults are reported by the CUDA
 * driver at the next call that waits for the device, so the op named may be a later one.
 */
public final class GpuException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GpuException(String message) {
        super(message);
    }

    public GpuException(String op, String shapes, String libraryMessage, Throwable cause) {
        super(op + (shapes.isEmpty() ? "" : " " + shapes) + ": " + libraryMessage, cause);
    }
}
