/**
 * The pure-Java backend, {@link dev.receptive.backend.cpu.CpuBackend}: the reference every other
 * backend is checked against, registered with {@code Backends} as "cpu" by
 * {@link dev.receptive.backend.cpu.CpuBackendProvider}. Each op goes to one package-private kernel
 * interface with two implementations: the scalar reference, small kernel classes that read like
 * their formulas, and, when the JVM runs with {@code --add-modules jdk.incubator.vector}, the Vector
 * API kernels (loaded reflectively, so the module stays optional), which fall back to the reference
 * wherever they have nothing faster. Results do not depend on the thread count.
 */
package dev.receptive.backend.cpu;
