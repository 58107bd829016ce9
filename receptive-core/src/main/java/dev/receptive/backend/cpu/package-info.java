/**
 * The pure-Java backend, {@link dev.receptive.backend.cpu.CpuBackend}: the reference every other
 * backend is checked against. Each op is a small package-private kernel class that reads like its
 * formula; when the JVM runs with {@code --add-modules jdk.incubator.vector}, Vector API kernels
 * replace the hot ones (loaded reflectively, so the module stays optional). Results do not depend
 * on the thread count.
 */
package dev.receptive.backend.cpu;
