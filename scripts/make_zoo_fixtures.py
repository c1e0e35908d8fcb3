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


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zoo_torch import ResNet18Cifar, save_safetensors  # noqa: E402


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
