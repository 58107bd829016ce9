/**
 * Not API: the IDX file reader behind {@link dev.receptive.data.Mnist} and
 * {@link dev.receptive.data.FashionMnist}, which may change without notice.
 */
package dev.receptive.data.internal;
