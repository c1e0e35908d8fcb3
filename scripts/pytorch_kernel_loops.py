#!/usr/bin/env python3
"""The PyTorch reference loops that Lethe's kernels replace, timed on ResNet-18's 62 parameter shapes
(torchvision resnet18, 10 classes: 11,181,642 floats):

  accumulate: for each parameter: imp += p.grad.clone().pow(2)          (the SSD reference's importance step)
  dampen:     for each parameter: locations = torch.where(iF > alpha*iD), weight = iD*lam/iF,
              update = weight[locations] capped at 1, p[locations] = p[locations].mul(update)
                                                                       (the SSD reference's update)

Prints one JSON object with milliseconds per call (median of --repetitions). --device cuda times on the GPU
(with torch.cuda.synchronize around each call) so it can run beside `lethe bench kernels --device cuda`.
"""
import argparse, json, statistics, time

import torch


def resnet18_shapes():
    s = [(64, 3, 7, 7), (64,), (64,)]
    cin = 64
    for stage, width in enumerate([64, 128, 256, 512]):
        for block in range(2):
            c = cin if block == 0 else width
            s += [(width, c, 3, 3), (width,), (width,), (width, width, 3, 3), (width,), (width,)]
            if block == 0 and stage > 0:
                s += [(width, c, 1, 1), (width,), (width,)]
        cin = width
    return s + [(10, 512), (10,)]


def timed(fn, device, reps):
    for _ in range(3):
        fn()
    out = []
    for _ in range(reps):
        if device.startswith("cuda"):
            torch.cuda.synchronize(device)
        t = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize(device)
        out.append((time.perf_counter() - t) * 1e3)
    return statistics.median(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    ap.add_argument("--repetitions", type=int, default=15)
    ap.add_argument("--alpha", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads on the CPU (default: PyTorch's choice)")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    shapes = resnet18_shapes()
    params = [torch.nn.Parameter(torch.randn(s, device=a.device) * 0.05) for s in shapes]
    for p in params:
        p.grad = torch.randn_like(p) * 0.05
    imp = [torch.zeros_like(p) for p in params]
    i_d = [torch.rand_like(p) ** 2 * 1e-3 for p in params]
    i_f = [torch.rand_like(p) ** 2 * 1e-3 for p in params]

    def accumulate():
        for k, p in enumerate(params):
            imp[k] += p.grad.clone().pow(2)

    def dampen():
        # the SSD reference implementation's loop (ssd.py, modify_weight), lambda = 1, exponent 1, lower bound 1
        with torch.no_grad():
            for k, p in enumerate(params):
                locations = torch.where(i_f[k] > i_d[k].mul(a.alpha))
                weight = i_d[k].mul(1.0).div(i_f[k]).pow(1)
                update = weight[locations]
                min_locs = torch.where(update > 1.0)
                update[min_locs] = 1.0
                p[locations] = p[locations].mul(update)

    n = sum(p.numel() for p in params)
    print(json.dumps({"torch": torch.__version__, "device": a.device, "threads": torch.get_num_threads(),
                      "tensors": len(params), "params": n,
                      "accumulate_ms": timed(accumulate, a.device, a.repetitions),
                      "dampen_ms": timed(dampen, a.device, a.repetitions)}))


if __name__ == "__main__":
    main()
