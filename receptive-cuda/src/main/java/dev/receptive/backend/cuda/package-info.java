/**
 * The CUDA backend: {@link dev.receptive.backend.cuda.CudaBackend} runs the op contract with
 * cuDNN, cuBLAS and Receptive's own PTX kernels, configured by
 * {@link dev.receptive.backend.cuda.CudaOptions}. It is found through
 * {@link dev.receptive.backend.cuda.CudaBackendProvider} when this jar is on the classpath, so
 * {@link dev.receptive.backend.Backends} ("auto" or "cuda") makes it without a compile-time
 * dependency on this module. Native
 * failures surface as {@link dev.receptive.backend.cuda.GpuException}, naming the op and shapes.
 */
package dev.receptive.backend.cuda;
