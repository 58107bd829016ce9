#!/usr/bin/env python3
"""W1 (the seed network) trained with PyTorch in eager mode, timed as Receptive's `bench` times it.

The reference point for Receptive's CUDA backend on the same GPU:

    python3 bench/pytorch/w1_bench.py [--batches 64,256,1024] [--samples 5] [--device cuda]

On the CPU (`--device cpu --threads 1 --clock thread-cpu`) it is the counterpart of Receptive's
`bench` with RECEPTIVE_THREADS=1 and -Dreceptive.bench.clock=thread-cpu: one intra-op thread
computes on the calling thread, and its CPU time leaves other load on the machine out.
ATEN_CPU_CAPABILITY=default or avx2 limits PyTorch's kernels to narrower vectors, as
-XX:MaxVectorSize=16 or 32 limits Receptive's.

Network: conv5x5x32 pad 2 + ReLU -> maxpool 2 -> conv5x5x64 pad 2 + ReLU -> maxpool 2 -> flatten
-> dense 1024 + ReLU -> dropout 0.5 -> dense 10 -> softmax cross-entropy, Adam (lr 1e-4), fp32.
As Receptive runs by default: TF32 off for cuDNN and matmul, cudnn.benchmark on (the fastest
algorithm per shape, as Receptive's cuDNN Find), data already on the device.

Timing (Receptive's Bench.medianSeconds): warm up for one second (at least three steps),
synchronizing after each step; then `samples` times run `reps` steps and synchronize, where
reps = clamp(0.3 s / time per step, 1, 1000); report the median time per step and
batch / median as training images/s. Prints one line per batch size:

    W1 train batch   64:    12345.6 images/s  (5.18 ms/step)
"""
import argparse
import statistics
import time

import torch
from torch import nn


def seed_net():
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3136, 1024), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(1024, 10))


def median_seconds(step, sync, samples, clock=time.perf_counter):
    warm_end = clock() + 1.0
    calls = 0
    t0 = clock()
    while True:
        step()
        sync()
        calls += 1
        if clock() >= warm_end and calls >= 3:
            break
    per_call = (clock() - t0) / calls
    reps = int(max(1, min(1000, 0.3 / per_call)))
    times = []
    for _ in range(samples):
        t = clock()
        for _ in range(reps):
            step()
        sync()
        times.append((clock() - t) / reps)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="64,256,1024")
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads on the CPU (0: PyTorch's default)")
    parser.add_argument("--clock", choices=["wall", "thread-cpu"], default="wall",
                        help="thread-cpu: the calling thread's CPU time (CPU, one thread only)")
    args = parser.parse_args()
    if args.clock == "thread-cpu" and (args.device == "cuda" or args.threads != 1):
        parser.error("--clock thread-cpu needs --device cpu --threads 1")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
    clock = time.thread_time if args.clock == "thread-cpu" else time.perf_counter

    device = torch.device(args.device)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(1)
    if device.type == "cuda":
        sync = torch.cuda.synchronize
        print("device: %s (sm_%d%d), torch %s, CUDA %s, cuDNN %s" % (
            torch.cuda.get_device_name(device), *torch.cuda.get_device_capability(device), torch.__version__,
            torch.version.cuda, torch.backends.cudnn.version()))
    else:
        sync = lambda: None  # noqa: E731
        print("device: %s, torch %s, %d threads, CPU capability %s, clock %s" % (
            device, torch.__version__, torch.get_num_threads(), torch.backends.cpu.get_cpu_capability()
            if hasattr(torch.backends, "cpu") else "(not reported)", args.clock))
    print("fp32, TF32 off (cudnn.allow_tf32=%s, matmul.allow_tf32=%s), cudnn.benchmark=%s, eager" % (
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.benchmark))

    for batch in [int(b) for b in args.batches.split(",")]:
        model = seed_net().to(device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        loss_fn = nn.CrossEntropyLoss()
        x = torch.rand(batch, 1, 28, 28, device=device)
        y = torch.randint(0, 10, (batch,), device=device)
        model.train()

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()

        seconds = median_seconds(step, sync, args.samples, clock)
        print("W1 train batch %4d: %10.1f images/s  (%.2f ms/step)" % (batch, batch / seconds, seconds * 1e3),
              flush=True)


if __name__ == "__main__":
    main()
