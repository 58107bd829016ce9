#!/usr/bin/env python3
"""W1 (the seed network) trained with PyTorch in three modes, timed as Receptive's `bench` times it.

The PyTorch side of the GPU bundle's `compare` step, which alternates it with Receptive's
`bench --precision fp32|tf32|bf16` in rounds on the same GPU (scripts/gpu-bundle-run.sh):

    python3 w1_modes.py [--modes eager,autocast,graph] [--batches 64,256,1024] [--samples 5]

Modes (TF32 off everywhere, cudnn.benchmark on, data already on the device, Adam lr 1e-4):
  eager     fp32 eager, as bench/pytorch/w1_bench.py
  autocast  eager under torch.autocast("cuda", dtype=torch.bfloat16): convolutions and GEMMs in
            bf16 on tensor cores, weights, optimizer state and the loss in fp32 (no GradScaler: bf16
            has fp32's exponent range)
  graph     fp32 with the whole step (forward, backward, Adam with capturable=True) captured once
            in a CUDA graph (torch.cuda.graph) after three warm-up steps on a side stream, then
            replayed; a capture that fails prints why ("not run") and the script goes on

The network and the timing come from bench/pytorch/w1_bench.py (one definition of W1). Prints
one line per mode and batch size:

    torch autocast batch  256:    12345.6 images/s  (20.74 ms/step)
"""
import argparse
import os
import sys

import torch
from torch import nn

here = os.path.dirname(os.path.abspath(__file__))
# In the bundle w1_bench.py lies next to this file; in the source tree under bench/pytorch.
sys.path[:0] = [here, os.path.join(here, "..", "..", "bench", "pytorch")]
from w1_bench import median_seconds, seed_net  # noqa: E402


def make_step(mode, batch, device):
    """The training step of `mode` at `batch`, ready to time; raises when a graph cannot be captured."""
    torch.manual_seed(1)
    model = seed_net().to(device)
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (batch,), device=device)

    if mode == "eager":
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            opt.step()
        return step

    if mode == "autocast":
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)

        def step():
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
                loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        return step

    if mode == "graph":
        opt = torch.optim.Adam(model.parameters(), lr=1e-4, capturable=True)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                opt.zero_grad(set_to_none=True)
                loss_fn(model(x), y).backward()
                opt.step()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            loss_fn(model(x), y).backward()
            opt.step()
        return graph.replay

    raise ValueError("unknown mode %r (eager, autocast, graph)" % mode)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="eager,autocast,graph")
    parser.add_argument("--batches", default="64,256,1024")
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()

    if not torch.cuda.is_available():
        print("torch: no CUDA device", file=sys.stderr)
        return 1
    device = torch.device("cuda")
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    print("device: %s (sm_%d%d), torch %s, CUDA %s, cuDNN %s; TF32 off, cudnn.benchmark on" % (
        torch.cuda.get_device_name(device), *torch.cuda.get_device_capability(device), torch.__version__,
        torch.version.cuda, torch.backends.cudnn.version()), flush=True)

    for mode in args.modes.split(","):
        for batch in [int(b) for b in args.batches.split(",")]:
            try:
                step = make_step(mode, batch, device)
            except Exception as e:  # a capture PyTorch refuses: say why, go on
                print("torch %s batch %4d: not run: %s: %s" % (mode, batch, type(e).__name__, e), flush=True)
                continue
            seconds = median_seconds(step, torch.cuda.synchronize, args.samples)
            print("torch %s batch %4d: %10.1f images/s  (%.2f ms/step)" % (mode, batch, batch / seconds,
                                                                         seconds * 1e3), flush=True)
            del step
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
