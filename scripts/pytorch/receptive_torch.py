"""Receptive model files in PyTorch: the recipe of docs/model-format.md, and a safetensors writer.

The code between the two recipe markers below is the Python block of docs/model-format.md up to
its usage lines, verbatim (RecipeInSyncTest checks it), so the cross-check runs exactly what the
documentation tells PyTorch users to run. Needs only torch (Debian's python3-torch 1.13 will do).
"""
# ---- recipe of docs/model-format.md, verbatim ----
import json
import struct

import torch
from torch import nn


def read_safetensors(path):
    """The F32 tensors and the metadata of a safetensors file, with struct, json and torch only."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))  # header length, little-endian uint64
        header = json.loads(f.read(n))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {t['dtype']}, not F32")
        begin, end = t["data_offsets"]
        # Little-endian float32; with numpy: np.frombuffer(data[begin:end], "<f4").reshape(t["shape"])
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(t["shape"])
    return tensors, metadata


class FlatSoftmax(nn.Module):
    """Receptive's Softmax: over all C*H*W values of each item, then back to the item's shape.
    On flat (N, F) input it is nn.Softmax(dim=1); on a conv output (N, C, H, W) it is not."""

    def forward(self, x):
        return torch.softmax(x.flatten(1), dim=1).view_as(x)


def layer(l, x):
    """The PyTorch module of one Receptive layer whose input looks like x."""
    t = l["type"]
    if t == "Conv2d":
        return nn.Conv2d(x.shape[1], l["filters"], tuple(l["kernel"]), tuple(l["stride"]),
                         tuple(l["padding"]), tuple(l["dilation"]), bias=l["bias"])
    if t == "Dense":  # Receptive's Dense takes flat items: a Flatten comes before it
        return nn.Linear(x.shape[1], l["units"], bias=l["bias"])
    if t in ("MaxPool2d", "AvgPool2d"):
        return getattr(nn, t)(tuple(l["window"]), tuple(l["stride"]), tuple(l["padding"]))
    if t in ("BatchNorm2d", "BatchNorm1d"):
        return getattr(nn, t)(x.shape[1], eps=l["eps"], momentum=l["momentum"])
    if t == "GlobalAvgPool2d":
        return nn.AdaptiveAvgPool2d(1)
    if t == "Dropout":
        return nn.Dropout(l["p"])
    if t == "Softmax":
        return FlatSoftmax()
    return getattr(nn, t)()  # ReLU, Tanh, Sigmoid, Flatten


class Graph(nn.Module):
    """A Receptive model: a chain ("layers" in order, named 0, 1, ...) or a graph (each layer names
    its inputs; "Add" and "Concat" merge). Dotted node names nest modules, as in torchvision."""

    def __init__(self, arch):
        super().__init__()
        graph = "output" in arch
        self.nodes, self.output = [], arch["output"] if graph else str(len(arch["layers"]) - 1)
        # Dummy items track the shapes: two, as the modules are in training mode here and
        # BatchNorm1d refuses to train on a single item.
        values = {"input": torch.zeros(2, *arch["input"])}
        for i, l in enumerate(arch["layers"]):
            name = l["name"] if graph else str(i)
            inputs = l["inputs"] if graph else ["input" if i == 0 else str(i - 1)]
            if l["type"] not in ("Add", "Concat"):
                parent = self
                *path, leaf = name.split(".")
                for part in path:
                    if not hasattr(parent, part):
                        parent.add_module(part, nn.Module())
                    parent = getattr(parent, part)
                parent.add_module(leaf, layer(l, values[inputs[0]]))
            self.nodes.append((name, l["type"], inputs))
            values[name] = self.run(name, l["type"], [values[n] for n in inputs]).detach()

    def run(self, name, t, xs):
        if t == "Add":
            return sum(xs)
        if t == "Concat":
            return torch.cat(xs, dim=1)
        return self.get_submodule(name)(xs[0])

    def forward(self, x):
        values = {"input": x}
        for name, t, inputs in self.nodes:
            values[name] = self.run(name, t, [values[n] for n in inputs])
        return values[self.output]

# ---- end of the recipe ----


def load(path):
    """The model of a Receptive file in evaluation mode, and the file's metadata: the usage lines
    of the recipe."""
    weights, meta = read_safetensors(path)
    model = Graph(json.loads(meta["receptive.architecture"]))
    weights = {k: v.reshape(()).long() if k.endswith("num_batches_tracked") else v for k, v in weights.items()}
    model.load_state_dict(weights)
    model.eval()
    return model, meta


def write_safetensors(path, tensors, metadata):
    """Writes float32 tensors (name -> tensor, in order) and string metadata as safetensors: the
    8-byte little-endian header length, the JSON header padded with spaces to a multiple of 8,
    then the tensors' little-endian bytes back to back."""
    header = {"__metadata__": dict(metadata)}
    blobs, offset = [], 0
    for name, t in tensors.items():
        values = t.detach().to(torch.float32).flatten().tolist()  # Python floats hold float32 exactly
        data = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)
