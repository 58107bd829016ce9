package dev.receptive.tensor;

import dev.receptive.backend.Backend;

/**
 * A float32 tensor living on one backend, which owns its memory. Closing it frees that memory;
 * using it afterwards throws {@link IllegalStateException}. Tensors are made by
 * {@link Backend#allocate} and {@link Backend#upload}, never directly.
 */
public abstract class Tensor implements AutoCloseable {
    private final Shape shape;
    private final Backend backend;
    private boolean closed;

    protected Tensor(Backend backend, Shape shape) {
        this.backend = backend;
        this.shape = shape;
    }

    public final Shape shape() {
        return shape;
    }

    public final int size() {
        return shape.size();
    }

    public final Backend backend() {
        return backend;
    }

    public final boolean isClosed() {
        return closed;
    }

    /** Throws if this tensor was closed; backends call it before touching the memory. */
    public final void checkOpen() {
        if (closed) {
            throw new IllegalStateException("tensor " + shape + " on " + backend.name() + " is closed");
        }
    }

    /** Copies the contents to a new host array (a convenience over {@link Backend#download}). */
    public final float[] toArray() {
        return backend.download(this);
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            release();
        }
    }

    /** Frees the memory behind this tensor; called once. */
    protected abstract void release();

    @Override
    public String toString() {
        return "Tensor" + shape + "@" + backend.name() + (closed ? " (closed)" : "");
    }
}
