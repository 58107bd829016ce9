#!/usr/bin/env python3
"""ONNX files written by PyTorch's own exporter, and PyTorch's outputs for them, for Receptive's import tests.

    /usr/bin/python3 test-data/onnx/make_fixtures.py [DIR, default: the folder of this script]

For each model NAME below, writes DIR/NAME.onnx (torch.onnx.export, opset 17, a dynamic batch
dimension) and DIR/NAME.outputs.safetensors holding the input batch "x" and PyTorch's output "y"
in evaluation mode (float32, one thread). Weights are PyTorch's default initialization under a
fixed seed; batch norm's running statistics are moved away from (0, 1) by training-mode passes
first, so that importing them wrongly shows. Widths are small to keep the files small.

- seednet: the seed network's layout (conv 5x5 pad 2, ReLU, max-pool 2, conv 5x5 pad 2, ReLU,
  max-pool 2, flatten, dense, ReLU, dropout, dense 10) with 4, 8 and 32 units.
- resnet: a small ResNet (3x3 convs, batch norm, two residual blocks, the second with stride 2
  and a 1x1 projection, global average pooling, dense), flattened with x.view(x.size(0), -1) (a
  shape subgraph: Shape, Gather, Unsqueeze, Concat, Reshape) and exported with
  TrainingMode.PRESERVE, which keeps the BatchNormalization nodes.
- resnet_folded: the same weights exported the default way, where PyTorch folds batch norm into
  the convolutions.
- concat: two branches of a 1x1 and a dilated 3x3 conv joined by torch.cat and by +, average
  pooling with and without padding (PyTorch writes Pad + AveragePool), tanh, sigmoid, padded max
  pooling, a dense layer as x @ W + b (MatMul + Add) and a softmax.

Needs only torch and its ONNX exporter (Debian's python3-torch 1.13 will do). README.md says how
the committed files were made; Receptive's OnnxPyTorchFixtureTest reads them.
"""
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "pytorch"))
from receptive_torch import write_safetensors  # noqa: E402

OPSET = 17


class SeedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(8 * 7 * 7, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.layer1 = Block(4, 4, 1)
        self.layer2 = Block(4, 8, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.pool(self.layer2(self.layer1(x)))
        return self.fc(x.view(x.size(0), -1))


class ConcatNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.a = nn.Conv2d(4, 4, 1)
        self.b = nn.Conv2d(4, 4, 3, padding=2, dilation=2)
        self.pool = nn.AvgPool2d(2)
        self.smooth = nn.AvgPool2d(3, stride=1, padding=1)
        self.squeeze = nn.MaxPool2d(3, stride=2, padding=1)
        self.w = nn.Parameter(torch.randn(12 * 3 * 3, 10) * 0.1)
        self.bias = nn.Parameter(torch.randn(10) * 0.1)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        a, b = self.a(x), self.b(x)
        x = torch.cat([a, b, a + b], dim=1)
        x = torch.tanh(self.smooth(self.pool(x)))
        x = self.squeeze(torch.sigmoid(x))
        return torch.softmax(torch.flatten(x, 1) @ self.w + self.bias, dim=1)


def settle_batch_norm(model, shape, generator):
    """Training-mode passes on random batches, so the running statistics are not (0, 1)."""
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(8, *shape, generator=generator) * 2 + 0.5)
    model.eval()


def export(model, name, shape, folder, generator, training=torch.onnx.TrainingMode.EVAL):
    model.eval()
    x = torch.rand(4, *shape, generator=generator)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(folder, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=OPSET, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, training=training)
    write_safetensors(os.path.join(folder, name + ".outputs.safetensors"), {"x": x, "y": y},
                      {"torch": torch.__version__, "script": "test-data/onnx/make_fixtures.py"})
    print(f"{path}: {os.path.getsize(path)} bytes, output {tuple(y.shape)}, largest |y| {y.abs().max().item():.4g}")


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else HERE
    torch.set_num_threads(1)
    torch.manual_seed(2026)
    generator = torch.Generator().manual_seed(17)
    export(SeedNet(), "seednet", (1, 28, 28), folder, generator)
    resnet = ResNet()
    settle_batch_norm(resnet, (3, 12, 12), generator)
    export(resnet, "resnet", (3, 12, 12), folder, generator, torch.onnx.TrainingMode.PRESERVE)
    export(resnet, "resnet_folded", (3, 12, 12), folder, generator)
    export(ConcatNet(), "concat", (3, 12, 12), folder, generator)


if __name__ == "__main__":
    main()
