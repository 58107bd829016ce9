/**
 * Tensors and their shapes: float32 values in NCHW order, owned by the backend that made them.
 *
 * <p>{@link dev.receptive.tensor.Shape} is an immutable list of dimensions;
 * {@link dev.receptive.tensor.Tensor} is a handle to memory on a
 * {@link dev.receptive.backend.Backend} (a Java array on the CPU, device memory on a GPU) and is
 * {@link java.lang.AutoCloseable}: close it, or the model or optimizer that made it does.
 */
package dev.receptive.tensor;
