/**
 * Ready-made networks: {@link dev.receptive.zoo.Zoo} builds the seed network and small ResNets by
 * name, and {@link dev.receptive.zoo.ResidualBlocks} adds residual blocks to a
 * {@link dev.receptive.nn.Graph}.
 */
package dev.receptive.zoo;
