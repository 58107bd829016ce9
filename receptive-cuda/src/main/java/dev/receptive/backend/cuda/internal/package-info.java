/**
 * Not API: the check the CUDA backend makes on a JCuda native before loading it
 * ({@link dev.receptive.backend.cuda.internal.NativeLibraryCheck}: symbol versions and functions
 * against the installed CUDA libraries), and the tool that retargets a native to another major
 * version of cuBLAS ({@link dev.receptive.backend.cuda.internal.ElfNeededRetarget}). Public only
 * because the backend's package calls the check and the tool has a {@code main}; both may change
 * without notice.
 */
package dev.receptive.backend.cuda.internal;
