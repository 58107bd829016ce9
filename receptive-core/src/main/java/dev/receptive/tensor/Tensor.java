package dev.receptive.tensor;

import dev.receptive.backend.Backend;

/**
 * A float32 tensor living on one backend, which owns its memory. Closing it frees that memory;
 * using it afterwards throws {@link IllegalStateException}. Tensors are made by
 * {@link Backend#allocate} and {@link Backend#upload}, never directly; the protected members are
 * for backend implementations. A tensor is used by one thread at a time.
 */
public abstract class Tensor implements AutoCloseable {
    private final Shape shape;
    private final Backend backend;
    private boolean closed;

    /**
     * For backends: a tensor of {@code shape} whose memory {@code backend} has allocated.
     *
     * @param backend the backend that owns the memory
     * @param shape the tensor's shape
     */
    protected Tensor(Backend backend, Shape shape) {
        this.backend = backend;
        this.shape = shape;
    }

    /**
     * The tensor's shape.
     *
     * @return the shape, outermost dimension first
     */
    public final Shape shape() {
        return shape;
    }

    /**
     * The number of elements.
     *
     * @return shape().size()
     */
    public final int size() {
        return shape.size();
    }

    /**
     * The backend that made this tensor and owns its memory; only its ops accept the tensor.
     *
     * @return the owning backend
     */
    public final Backend backend() {
        return backend;
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once the memory is released
     */
    public final boolean isClosed() {
        return closed;
    }

    /**
     * Throws if this tensor was closed; backends call it before touching the memory.
     *
     * @throws IllegalStateException naming the shape and the backend when the tensor is closed
     */
    public final void checkOpen() {
        if (closed) {
            throw new IllegalStateException("tensor " + shape + " on " + backend.name() + " is closed");
        }
    }

    /**
     * Copies the contents to a new host array (a convenience over {@link Backend#download}); waits
     * for the backend's queued work.
     *
     * @return the values in row-major (NCHW) order
     */
    public final float[] toArray() {
        return backend.download(this);
    }

    /** Releases the memory; later use throws {@link IllegalStateException}. Closing twice is harmless. */
    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            release();
        }
    }

    /** For backends: frees the memory behind this tensor; {@link #close()} calls it once. */
    protected abstract void release();

    @Override
    public String toString() {
        return "Tensor" + shape + "@" + backend.name() + (closed ? " (closed)" : "");
    }
}
