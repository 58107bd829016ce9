/**
 * Networks: layers, the models built from them, and where a model runs.
 *
 * <p>A {@link dev.receptive.nn.Model} is a directed acyclic graph of nodes, each a
 * {@link dev.receptive.nn.Layer} (one input) or a {@link dev.receptive.nn.Merge} (two or more:
 * {@link dev.receptive.nn.Add}, {@link dev.receptive.nn.Concat}), built by
 * {@link dev.receptive.nn.Sequential} (a chain, nodes "0", "1", …) or
 * {@link dev.receptive.nn.Graph} (named nodes). Layers hold their configuration,
 * {@link dev.receptive.nn.Parameter}s and {@link dev.receptive.nn.Buffer}s, named as in PyTorch's
 * state dict; shapes are item shapes without the batch dimension, (C, H, W) or (F).
 *
 * <p>A model holds no per-call tensors: a forward and backward pass runs in a
 * {@link dev.receptive.nn.Workspace} (one thread at a time, one per thread), a
 * {@link dev.receptive.nn.Pass} says whether it trains, and the model's
 * {@link dev.receptive.nn.Predictor} serves inference from any number of threads. The model owns
 * its layers' tensors and closes them; a workspace owns the activations it returns.
 * {@link dev.receptive.nn.Layers} registers the layer types that architecture JSON may name, so
 * that custom layers load too.
 */
package dev.receptive.nn;
