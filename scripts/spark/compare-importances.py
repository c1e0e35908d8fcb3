#!/usr/bin/env python3
"""Compares two Lethe importance files tensor by tensor: relative L2 difference and largest element difference
over the tensor's largest value. Usage: compare-importances.py A.safetensors B.safetensors"""
import json
import struct
import sys

import numpy as np


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f4").astype(np.float64)
    return meta, tensors


meta_a, a = read(sys.argv[1])
meta_b, b = read(sys.argv[2])
assert a.keys() == b.keys(), "different tensors"
for key in ("model_fingerprint", "estimator", "batch_size", "data", "count"):
    same = meta_a.get(key) == meta_b.get(key)
    print(f"{key}: {'same' if same else 'DIFFERENT'} ({meta_b.get(key)})")
worst = 0.0
for name in a:
    x, y = a[name], b[name]
    rel = np.linalg.norm(x - y) / np.linalg.norm(x)
    mx = np.abs(x - y).max() / np.abs(x).max()
    worst = max(worst, rel)
    print(f"{name:24s} {x.size:8d} values  relative L2 {rel:.2e}  max |diff| / max {mx:.2e}")
print(f"largest relative L2 difference over tensors: {worst:.2e}")
