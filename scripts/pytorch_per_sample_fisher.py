#!/usr/bin/env python3
"""PyTorch's per-sample Fisher, for comparison with `lethe bench per-sample` on the same shapes.

Times, on one device and in one run:
  vmap_seconds        Σ_n (∂ℓ_n/∂θ)² over --samples samples with torch.func vmap(grad(...)) (functorch's
                      vmap/grad on torch 1.13), in chunks of --chunk samples (the per-sample gradients of a
                      chunk are materialised, as vmap does);
  batch_pass_seconds  a batch-estimator pass over the same samples: per batch of --batch-size, forward, mean
                      cross-entropy, backward, acc += grad² (the SSD reference's importance step);
  loop_check          the vmap result on the first --check samples against one backward pass per sample
                      (largest per-tensor max|vmap - loop| / max|loop|), so a wrong timing cannot go unnoticed.

The models are the zoo's (same layers and parameter names as Lethe's Java definitions): cnn, mlp and
resnet18-cifar (torchvision ResNet-18 layout with a 3x3 stride-1 stem and no max-pool), in eval mode
(BatchNorm on running statistics). Inputs are seeded normal noise of --input shape (default 1,28,28 as
Fashion-MNIST; the issue's ResNet-18 figure uses 3,32,32), labels seeded uniform; per-sample cost does not
depend on the values. Prints one JSON object.

  python3 scripts/pytorch_per_sample_fisher.py --arch resnet18-cifar --input 3,32,32 --samples 5000 --device cuda
"""
import argparse
import os
import sys
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

try:  # torch >= 2.0
    from torch.func import functional_call, grad, vmap
except ImportError:  # torch 1.13: functorch ships beside torch
    from functorch import grad, vmap
    from torch.nn.utils.stateless import functional_call


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zoo_torch import CnnNet, MlpNet, ResNet18Cifar  # noqa: E402


def make_model(arch, shape, classes, width):
    channels, size = shape[0], shape[1]
    if arch == "cnn":
        return CnnNet(channels, size, classes)
    if arch == "mlp":
        return MlpNet(channels, size, classes)
    if arch == "resnet18-cifar":
        return ResNet18Cifar(channels, classes, width)
    raise SystemExit(f"unknown --arch {arch} (cnn, mlp or resnet18-cifar)")


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def per_sample_fisher_vmap(model, params, buffers, x, y, chunk):
    """Σ_n g_n² with vmap(grad): per chunk the per-sample gradients are formed, squared and summed."""

    def sample_loss(p, xi, yi):
        logits = functional_call(model, {**p, **buffers}, (xi.unsqueeze(0),))
        return F.cross_entropy(logits, yi.unsqueeze(0))

    per_sample_grads = vmap(grad(sample_loss), in_dims=(None, 0, 0))
    acc = {k: torch.zeros_like(v) for k, v in params.items()}
    for start in range(0, x.shape[0], chunk):
        g = per_sample_grads(params, x[start:start + chunk], y[start:start + chunk])
        for k in acc:
            acc[k].add_(g[k].square().sum(0))
    return acc


def per_sample_fisher_loop(model, x, y):
    acc = {k: torch.zeros_like(v) for k, v in model.named_parameters()}
    for i in range(x.shape[0]):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]).backward()
        for k, p in model.named_parameters():
            acc[k].add_(p.grad.square())
    return acc


def batch_pass(model, x, y, batch_size):
    acc = {k: torch.zeros_like(v) for k, v in model.named_parameters()}
    for start in range(0, x.shape[0], batch_size):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[start:start + batch_size]), y[start:start + batch_size]).backward()
        for k, p in model.named_parameters():
            acc[k].add_(p.grad.square())
    return acc


def max_rel_diff(a, b):
    worst = 0.0
    for k in b:
        scale = b[k].abs().max().item()
        diff = (a[k] - b[k]).abs().max().item()
        worst = max(worst, 0.0 if diff == 0 else (diff / scale if scale > 0 else float("inf")))
    return worst


def timed(fn, device, repetitions):
    out = []
    for _ in range(repetitions):
        synchronize(device)
        t = time.perf_counter()
        fn()
        synchronize(device)
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="resnet18-cifar", help="cnn, mlp or resnet18-cifar")
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--input", default="1,28,28", help="C,H,W of one sample (default 1,28,28)")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--width", type=int, default=64, help="ResNet base width")
    ap.add_argument("--chunk", type=int, default=1000, help="samples per vmap call")
    ap.add_argument("--batch-size", type=int, default=64, help="batch size of the batch-estimator pass")
    ap.add_argument("--check", type=int, default=16, help="samples checked against the one-sample loop (0: none)")
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = ap.parse_args()
    if a.samples < 1 or a.chunk < 1 or a.batch_size < 1 or a.repetitions < 1 or a.check < 0:
        raise SystemExit("--samples, --chunk, --batch-size and --repetitions must be at least 1, --check at least 0")
    shape = tuple(int(v) for v in a.input.split(","))
    if len(shape) != 3 or shape[1] != shape[2]:
        raise SystemExit("--input must be C,H,W with H = W, for example 3,32,32")

    device = torch.device(a.device)
    torch.manual_seed(a.seed)
    model = make_model(a.arch, shape, a.classes, a.width).to(device).eval()
    x = torch.randn(a.samples, *shape, device=device)
    y = torch.randint(0, a.classes, (a.samples,), device=device)
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    # warm-up: cuDNN autotuning, vmap tracing, allocator
    warm = min(a.samples, a.chunk, 64)
    per_sample_fisher_vmap(model, params, buffers, x[:warm], y[:warm], a.chunk)
    batch_pass(model, x[:warm], y[:warm], a.batch_size)

    check = None
    if a.check:
        n = min(a.check, a.samples)
        check = max_rel_diff(per_sample_fisher_vmap(model, params, buffers, x[:n], y[:n], a.chunk),
                             per_sample_fisher_loop(model, x[:n], y[:n]))

    vmap_s = timed(lambda: per_sample_fisher_vmap(model, params, buffers, x, y, a.chunk), device, a.repetitions)
    batch_s = timed(lambda: batch_pass(model, x, y, a.batch_size), device, a.repetitions)
    print(json.dumps({
        "arch": a.arch, "input": list(shape), "samples": a.samples, "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__, "parameters": sum(p.numel() for p in params.values()),
        "chunk": a.chunk, "batch_size": a.batch_size, "repetitions": a.repetitions,
        "vmap_seconds": vmap_s, "batch_pass_seconds": batch_s, "vmap_over_batch_pass": vmap_s / batch_s,
        "loop_check_samples": min(a.check, a.samples), "loop_check_max_rel_diff": check,
    }, indent=1))


if __name__ == "__main__":
    main()
