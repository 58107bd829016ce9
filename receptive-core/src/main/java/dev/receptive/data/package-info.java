/**
 * Labelled images in memory and the batches a trainer draws from them.
 *
 * <p>{@link dev.receptive.data.Dataset} holds N normalized images of one shape and their labels;
 * {@link dev.receptive.data.Dataset#subset(int[])} and
 * {@link dev.receptive.data.Dataset#randomSplit(long, int...)} make parts of it.
 * {@link dev.receptive.data.Mnist} and {@link dev.receptive.data.FashionMnist} load the
 * MNIST-layout IDX files from a folder ({@link dev.receptive.data.DataFolder} by default),
 * {@link dev.receptive.data.ImageFolder} loads a folder of class subfolders of image files
 * through {@link dev.receptive.data.ImageInput}, which turns one image file into a model input,
 * {@link dev.receptive.data.Normalization} says how pixel bytes become inputs, and
 * {@link dev.receptive.data.Batches} copies seeded, shuffled batches into buffers the caller owns.
 */
package dev.receptive.data;
