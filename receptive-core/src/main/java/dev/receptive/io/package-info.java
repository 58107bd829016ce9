/**
 * Files: models ({@link dev.receptive.io.ModelFile}: the architecture and the weights in one
 * safetensors file that PyTorch reads as it is) and the safetensors format itself
 * ({@link dev.receptive.io.Safetensors}). Every file is written atomically. docs/model-format.md
 * describes the model file.
 */
package dev.receptive.io;
