#!/usr/bin/python3
"""Makes the PyTorch-side fixtures of the model-zoo tests (java/lethe-core/src/test/resources/fixtures/zoo/).

  cnn-state-dict.safetensors     state_dict of the shared fixture fmnist-cnn.pt, saved from PyTorch
  resnet18-cifar-w8.pt           a ResNet-18-CIFAR (torchvision layout, 3x3 stem, no max-pool, base width 8,
  resnet18-cifar-w8.safetensors  1 input channel, 10 classes), trained 20 steps so BatchNorm's running
                                 statistics are not trivial; TorchScript and state_dict of the same weights
  resnet18-cifar-w8-logits.json  its logits in eval mode for a fixed input, from PyTorch
  resnet18-torchvision.json      torchvision resnet18(num_classes=10): state_dict names, shapes, dtypes

Run with Debian's python3-torch and python3-torchvision (PyTorch 1.13), from the repository root:
  scripts/make_zoo_fixtures.py java/lethe-core/src/test/resources/fixtures/zoo
"""
import json, os, struct, sys

import torch
import torch.nn as nn
import torch.nn.functional as F


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


def main(out):
    os.makedirs(out, exist_ok=True)
    cnn = torch.jit.load("java/lethe-core/src/main/resources/ai/lethe/demo/fmnist-cnn.pt")  # = shared/fixtures
    save_safetensors(f"{out}/cnn-state-dict.safetensors", dict(cnn.state_dict()))

    torch.manual_seed(0)
    net = ResNet18Cifar()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    net.train()
    for _ in range(20):
        x = torch.rand(16, 1, 28, 28)
        y = torch.randint(0, 10, (16,))
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    net.eval()
    torch.jit.script(net).save(f"{out}/resnet18-cifar-w8.pt")
    save_safetensors(f"{out}/resnet18-cifar-w8.safetensors", dict(net.state_dict()))
    g = torch.Generator().manual_seed(1)
    x = torch.rand(3, 1, 28, 28, generator=g)
    with torch.no_grad():
        logits = net(x)
    json.dump({"input": x.flatten().tolist(), "shape": list(x.shape), "logits": logits.flatten().tolist()},
              open(f"{out}/resnet18-cifar-w8-logits.json", "w"))

    import torchvision
    tv = torchvision.models.resnet18(num_classes=10)
    json.dump([{"name": k, "shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")}
               for k, v in tv.state_dict().items()],
              open(f"{out}/resnet18-torchvision.json", "w"), indent=0)
    print("wrote", sorted(os.listdir(out)))


if __name__ == "__main__":
    main(sys.argv[1])
