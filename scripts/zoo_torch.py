"""The PyTorch twins of Lethe's zoo networks (same layers, same state_dict names) and the file helpers the
comparison scripts share: safetensors read/write and Fashion-MNIST's IDX files. Imported by make_zoo_fixtures.py,
pytorch_per_sample_fisher.py, pytorch_ssd_reference.py and pytorch_ssd_gpu.py (and carried by the GPU kit)."""
import gzip, json, os, struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FMNIST = os.environ.get("FMNIST", "/usr/share/datasets/fashion-mnist")


class CnnNet(nn.Module):
    """conv(C→16)-ReLU-pool, conv(16→32)-ReLU-pool, fc(32·(H/4)²→64)-ReLU, fc(64→classes); normalises inside."""

    def __init__(self, channels, size, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * (size // 4) ** 2, 64)
        self.fc2 = nn.Linear(64, classes)

    def forward(self, x):
        h = (x - 0.2860) / 0.3530
        h = F.max_pool2d(F.relu(self.conv1(h)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(h, 1))))


class MlpNet(nn.Module):
    def __init__(self, channels, size, classes, hidden=1000):
        super().__init__()
        self.fc1 = nn.Linear(channels * size * size, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(torch.sigmoid(self.fc1(torch.flatten(x, 1))))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class ResNet18Cifar(nn.Module):
    """The zoo's resnet18-cifar: torchvision's ResNet-18 with a 3x3 stem and no max-pool, base width w."""

    def __init__(self, channels=1, classes=10, w=8):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, w, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        widths, cin = [w, 2 * w, 4 * w, 8 * w], w
        for i, width in enumerate(widths):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(Block(cin, width, stride), Block(width, width, 1)))
            cin = width
        self.fc = nn.Linear(8 * w, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        t = t.detach().contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        b = t.numpy().tobytes()
        header[k] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": np.float32, "I64": np.int64}[e["dtype"]]
        a, b = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dtype).reshape(e["shape"]).copy())
    return out


def load_fmnist(n, directory=None):
    """The first n Fashion-MNIST training images as floats in [0, 1] (N, 1, 28, 28) and their labels."""
    d = directory or FMNIST
    with gzip.open(f"{d}/train-images-idx3-ubyte.gz") as f:
        _, cnt, rows, cols = struct.unpack(">IIII", f.read(16))
        x = np.frombuffer(f.read(), dtype=np.uint8).reshape(cnt, 1, rows, cols)[:n]
    with gzip.open(f"{d}/train-labels-idx1-ubyte.gz") as f:
        f.read(8)
        y = np.frombuffer(f.read(), dtype=np.uint8)[:n]
    return torch.from_numpy(x.astype(np.float32) / 255.0), torch.from_numpy(y.astype(np.int64))
