package dev.receptive.nn;

/**
 * A model whose parameters, gradients and buffers do not fit the memory of its backend: on the
 * CPU backend, the free Java heap. Thrown before anything is allocated when the sizes show it (a
 * few bytes of architecture JSON can declare billions of weights), or when allocating the
 * parameters ran out of memory (then with the {@link OutOfMemoryError} as its cause, and what was
 * allocated released). The remedy is more memory ({@code -Xmx}) or a smaller model; a command
 * line reports it as running out of memory, not as bad input.
 */
public class ModelTooLargeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was being built, what it needs and what is free
     * @param cause the out-of-memory error of the allocation, or null when refused beforehand
     */
    public ModelTooLargeException(String message, Throwable cause) {
        super(message, cause);
    }
}
