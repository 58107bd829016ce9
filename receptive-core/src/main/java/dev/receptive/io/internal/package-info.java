/**
 * Not API: file helpers shared by Receptive's own packages and its command line, which may change
 * without notice. {@link dev.receptive.io.internal.AtomicFiles} writes files atomically.
 */
package dev.receptive.io.internal;
