#!/usr/bin/env python3
"""What PyTorch computes for Receptive's cross-check: model outputs and optimizer steps.

    /usr/bin/python3 scripts/pytorch/crosscheck.py DIR

Models: for every DIR/NAME.model.safetensors (a Receptive model file) with its
DIR/NAME.input.safetensors (tensor "x", a batch of items), rebuilds the model by the recipe of
docs/model-format.md, runs it in evaluation mode in float32, and writes
DIR/NAME.pytorch.safetensors holding "x" and PyTorch's output "y".

Optimizers: writes DIR/optimizers.pytorch.safetensors: a parameter "w0" of 64 values, the
gradients "grad.0" .. "grad.4" (from 1e-9 to 10 in size, so that eps matters for some), and for
each case of CASES the parameter after each of five steps, "CASE.w.1" .. "CASE.w.5", with
torch.optim's single-tensor implementations. The metadata key "cases" lists the cases as JSON.

Prints one line per file written. Receptive's PyTorchFixtureTest and PyTorchLiveTest read the
files; test-data/pytorch/README.md says how the committed ones were made.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from receptive_torch import load, read_safetensors, write_safetensors  # noqa: E402

STEPS = 5
SIZE = 64
CASES = [
    {"name": "sgd", "optimizer": "sgd", "lr": 0.1},
    {"name": "sgd_momentum_decay", "optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
    {"name": "sgd_nesterov", "optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True,
     "weight_decay": 0.001},
    {"name": "adam", "optimizer": "adam", "lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-8},
    {"name": "adam_l2", "optimizer": "adam", "lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1},
    {"name": "adamw", "optimizer": "adamw", "lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1},
]


def metadata():
    return {"torch": torch.__version__, "script": "scripts/pytorch/crosscheck.py"}


def models(folder):
    for file in sorted(os.listdir(folder)):
        if not file.endswith(".model.safetensors"):
            continue
        name = file[: -len(".model.safetensors")]
        model, _ = load(os.path.join(folder, file))
        inputs, _ = read_safetensors(os.path.join(folder, name + ".input.safetensors"))
        x = inputs["x"]
        with torch.no_grad():
            y = model(x)
        out = os.path.join(folder, name + ".pytorch.safetensors")
        write_safetensors(out, {"x": x, "y": y}, metadata())
        print(f"{out}: {name}, output {tuple(y.shape)}, largest |y| {y.abs().max().item():.4g}")


def optimizer(case, params):
    if case["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=case["lr"], momentum=case.get("momentum", 0),
                               weight_decay=case.get("weight_decay", 0), nesterov=case.get("nesterov", False),
                               foreach=False)
    if case["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=case["lr"], betas=tuple(case["betas"]), eps=case["eps"],
                                weight_decay=case.get("weight_decay", 0), foreach=False)
    return torch.optim.AdamW(params, lr=case["lr"], betas=tuple(case["betas"]), eps=case["eps"],
                             weight_decay=case["weight_decay"], foreach=False)


def optimizers(folder):
    generator = torch.Generator().manual_seed(2024)
    w0 = torch.randn(SIZE, generator=generator)
    scale = 10 ** torch.linspace(-9, 1, SIZE)
    grads = [torch.randn(SIZE, generator=generator) * scale for _ in range(STEPS)]
    tensors = {"w0": w0}
    tensors.update({f"grad.{k}": g for k, g in enumerate(grads)})
    for case in CASES:
        w = torch.nn.Parameter(w0.clone())
        opt = optimizer(case, [w])
        for k, g in enumerate(grads):
            w.grad = g.clone()
            opt.step()
            tensors[f"{case['name']}.w.{k + 1}"] = w.detach().clone()
    out = os.path.join(folder, "optimizers.pytorch.safetensors")
    write_safetensors(out, tensors, dict(metadata(), cases=json.dumps(CASES)))
    print(f"{out}: {len(CASES)} cases, {STEPS} steps each")


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: crosscheck.py DIR (a folder of NAME.model.safetensors and NAME.input.safetensors)")
    torch.set_num_threads(1)
    models(sys.argv[1])
    optimizers(sys.argv[1])


if __name__ == "__main__":
    main()
