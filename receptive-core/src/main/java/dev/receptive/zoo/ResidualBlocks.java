package dev.receptive.zoo;

import dev.receptive.nn.Add;
import dev.receptive.nn.BatchNorm2d;
import dev.receptive.nn.Conv2d;
import dev.receptive.nn.Graph;
import dev.receptive.nn.ReLU;
import dev.receptive.nn.init.Init;

/**
 * The residual blocks of He et al. (2016) as nodes of a {@link Graph}, named like torchvision's
 * ResNet so the parameters read "layer2.0.conv1.weight", "layer2.0.shortcut.0.weight", ….
 */
public final class ResidualBlocks {
    private ResidualBlocks() {
    }

    /**
     * The basic block: conv 3×3 (stride) → batch norm → ReLU → conv 3×3 → batch norm, added to
     * the shortcut, then ReLU. The shortcut is the input itself when the shape stays, else a 1×1
     * convolution with the stride and a batch norm (projection, "option B"). Convolutions before a
     * batch norm have no bias.
     *
     * @param graph the graph under construction; the block's nodes are added to it
     * @param name the block's name, prefixing its nodes ("layer1.0")
     * @param input the node it reads
     * @param inChannels the input's channels
     * @param channels the output's channels
     * @param stride 1, or 2 to halve the map
     * @return the name of the block's output node
     */
    public static String basic(Graph.Builder graph, String name, String input, int inChannels, int channels, int stride) {
        Init he = Init.he();
        graph.add(name + ".conv1", Conv2d.builder().filters(channels).kernel(3).stride(stride).padding(1).bias(false)
                .init(he).build(), input)
                .add(name + ".bn1", new BatchNorm2d(), name + ".conv1")
                .add(name + ".relu1", new ReLU(), name + ".bn1")
                .add(name + ".conv2", Conv2d.builder().filters(channels).kernel(3).padding(1).bias(false).init(he).build(),
                        name + ".relu1")
                .add(name + ".bn2", new BatchNorm2d(), name + ".conv2");
        String shortcut = input;
        if (stride != 1 || inChannels != channels) {
            graph.add(name + ".shortcut.0", Conv2d.builder().filters(channels).kernel(1).stride(stride).bias(false)
                    .init(he).build(), input)
                    .add(name + ".shortcut.1", new BatchNorm2d(), name + ".shortcut.0");
            shortcut = name + ".shortcut.1";
        }
        graph.add(name + ".add", new Add(), name + ".bn2", shortcut)
                .add(name + ".relu2", new ReLU(), name + ".add");
        return name + ".relu2";
    }
}
