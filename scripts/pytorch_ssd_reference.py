#!/usr/bin/env python3
"""The SSD computation in PyTorch with Python loops, timed: the baseline `bench-vs-pytorch.sh` compares
`lethe forget` against (same model, same data, same batches: D = retain then forget in file order).

Data is decoded into memory before the clock starts, which favours PyTorch (Lethe streams it from disk
inside its timed section). Prints one JSON object: seconds for each phase and their total.
Needs a python3 with torch (Debian: apt-get install python3-torch).
"""
import argparse, json, os, sys, time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zoo_torch import load_fmnist as load_idx  # noqa: E402


def importance(model, x, y, bs, label_free):
    imps = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    nb = 0
    for i in range(0, len(x), bs):
        model.zero_grad()
        out = model(x[i:i + bs])
        loss = out.norm(p="fro", dim=1).pow(2).mean() if label_free else F.cross_entropy(out, y[i:i + bs])
        loss.backward()
        for n, p in model.named_parameters():
            if p.grad is not None:
                imps[n] += p.grad.abs() if label_free else p.grad.clone().pow(2)
        nb += 1
    return {n: v / nb for n, v in imps.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--train-n", type=int, default=10000)
    ap.add_argument("--forget-class", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--alpha", type=float, default=10.0)
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument("--label-free", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count()))
    model = torch.jit.load(a.model)
    model.eval()
    t = time.perf_counter()
    x, y = load_idx(a.train_n)
    f = y == a.forget_class
    xd, yd = torch.cat([x[~f], x[f]]), torch.cat([y[~f], y[f]])
    xf, yf = x[f], y[f]
    load = time.perf_counter() - t
    t0 = time.perf_counter()
    i_d = importance(model, xd, yd, a.batch_size, a.label_free)
    t1 = time.perf_counter()
    i_f = importance(model, xf, yf, a.batch_size, a.label_free)
    t2 = time.perf_counter()
    selected = 0
    with torch.no_grad():
        for n, p in model.named_parameters():
            loc = i_f[n] > i_d[n] * a.alpha
            beta = torch.clamp(i_d[n] * a.lam / i_f[n], max=1.0)
            p[loc] = p[loc] * beta[loc]
            selected += int(loc.sum())
    t3 = time.perf_counter()
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "selected": selected,
                      "seconds": {"load_data_untimed": load, "importance_full": t1 - t0, "importance_forget": t2 - t1,
                                  "update": t3 - t2, "total": t3 - t0}}))


if __name__ == "__main__":
    main()
