#!/usr/bin/env python3
"""Writes the hand-made seed corpora of the fuzz targets (java/lethe-fuzz) into their Jazzer input directories.

Each target finds its seeds in src/test/resources/ai/lethe/fuzz/<Class>Inputs/<method>/; Jazzer runs them as
regression tests on every `mvn verify` and starts fuzzing from them. Findings fixed later are added beside them
(named regression-*). Run from the repository root; it only (re)writes the seed-* files.
"""
import gzip, json, os, struct

BASE = "java/lethe-fuzz/src/test/resources/ai/lethe/fuzz"


def put(cls, method, name, data):
    d = os.path.join(BASE, cls + "Inputs", method)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def join(a, b):
    return struct.pack(">H", len(a)) + a + b


def idx(n, rows, cols):
    img = struct.pack(">iiii", 0x803, n, rows, cols) + bytes((i * 7 + j) % 256 for i in range(n) for j in range(rows * cols))
    lab = struct.pack(">ii", 0x801, n) + bytes(i % 10 for i in range(n))
    return img, lab


def npy(descr, shape, data, major=1):
    dict_ = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, "".join("%d, " % d for d in shape))
    pre = 10 if major == 1 else 12
    pad = (64 - (pre + len(dict_) + 1) % 64) % 64
    header = (dict_ + " " * pad + "\n").encode("latin-1")
    ln = struct.pack("<H", len(header)) if major == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([major, 0]) + ln + header + data


def safetensors(tensors, metadata=None):
    header, blobs, off = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs += raw
        off += len(raw)
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + blobs


# IDX
img, lab = idx(3, 2, 2)
put("IdxFuzzTest", "imagesAndLabels", "plain", join(img, lab))
put("IdxFuzzTest", "imagesAndLabels", "gzip", join(gzip.compress(img, mtime=0), gzip.compress(lab, mtime=0)))
put("IdxFuzzTest", "imagesAndLabels", "truncated", join(img[:-2], lab))
img, lab = idx(1, 28, 28)
put("IdxFuzzTest", "imagesAndLabels", "one-28x28", join(img, lab))

# .npy
x = bytes(range(12))
y = struct.pack("<3q", 1, 2, 3)
put("NpyFuzzTest", "imagesAndLabels", "u1-i8", join(npy("|u1", (3, 2, 2), x), npy("<i8", (3,), y)))
put("NpyFuzzTest", "imagesAndLabels", "f4-u1-v2", join(npy("<f4", (2, 1, 2, 2), struct.pack("<8f", *[0.5] * 8), 2),
                                                        npy("|u1", (2,), bytes([0, 9]), 2)))
put("NpyFuzzTest", "imagesAndLabels", "bigendian-i4", join(npy(">f4", (2, 3), struct.pack(">6f", *[1.0] * 6)),
                                                            npy(">i4", (2,), struct.pack(">2i", 4, 5))))

# safetensors (a dataset, and weights of every dtype)
put("SafetensorsFuzzTest", "tensorsAndDataset", "dataset",
    safetensors({"x": ("U8", [3, 2, 2], bytes(range(12))), "y": ("I64", [3], struct.pack("<3q", 0, 1, 2))}))
put("SafetensorsFuzzTest", "tensorsAndDataset", "dtypes",
    safetensors({"a": ("F32", [2], struct.pack("<2f", 1, -2)), "b": ("F16", [2], struct.pack("<2H", 0x3c00, 0x7c00)),
                 "c": ("BF16", [1, 2], struct.pack("<2H", 0x3f80, 0)), "d": ("F64", [1], struct.pack("<d", 3)),
                 "e": ("I32", [2], struct.pack("<2i", -1, 7)), "f": ("U16", [], struct.pack("<H", 9))},
                {"format": "pt"}))

# importance files
meta = {"format": "lethe-importance/1", "model_fingerprint": "ab" * 32, "estimator": "batch", "batch_size": "64",
        "data": "fashion-mnist", "subset": "full", "order": "file", "forget_set": "", "count": "10",
        "normalisation": "sum / batches"}
put("ImportanceFuzzTest", "load", "valid",
    safetensors({"conv.weight": ("F32", [2, 1, 1, 1], struct.pack("<2f", 0.5, 0)), "fc.bias": ("F32", [3], struct.pack("<3f", 1, 2, 3))}, meta))
put("ImportanceFuzzTest", "load", "per-sample",
    safetensors({"w": ("F32", [1], struct.pack("<f", 0.25))}, dict(meta, estimator="per-sample", normalisation="sum / samples")))

# --forget-indices files
put("ForgetIndicesFuzzTest", "readAndResolve", "plain", b"0\n17\n42\n")
put("ForgetIndicesFuzzTest", "readAndResolve", "comments", b"# deletion request 2026-11\n\n  3  \n99\r\n5\n")

# JSON bodies: first byte picks the endpoint (0 /jobs, 1 /models, 2 /models/$MODEL/importances, 3 GET /jobs?, 4 GET /importances?)
jobs = [
    {"model": "$MODEL", "data": "fashion-mnist", "train_limit": 200, "forget": {"classes": [1]}, "method": "lfssd", "alpha": 2, "evaluate": False},
    {"model": "$MODEL", "data": "fashion-mnist", "forget": {"indices": [0, 17, 42]}, "output": "safetensors", "evaluate": False, "train_limit": 100},
    {"model": "$MODEL", "data": "fashion-mnist", "forget": {"random": 0.1, "seed": 7}, "batch_size": 32, "estimator": "batch", "lambda": 1.5, "train_limit": 100, "evaluate": False},
    {"model": "$MODEL", "data": "npy:data", "forget": {"classes": [3]}},
    {"model": "$MODEL", "importance": "imp-0000000000000000", "forget": {"indices": [1]}},
]
for i, j in enumerate(jobs):
    put("JsonBodyFuzzTest", "requestBodies", "job-%d" % i, b"\x00" + json.dumps(j).encode())
put("JsonBodyFuzzTest", "requestBodies", "model-path", b"\x01" + json.dumps({"path": "models/cnn.pt", "name": "n"}).encode())
put("JsonBodyFuzzTest", "requestBodies", "model-escape", b"\x01" + json.dumps({"path": "escape/passwd"}).encode())
put("JsonBodyFuzzTest", "requestBodies", "importance", b"\x02" + json.dumps({"data": "fashion-mnist", "estimator": "batch", "batch_size": 64, "train_limit": 100}).encode())
put("JsonBodyFuzzTest", "requestBodies", "list-jobs", b"\x03state=succeeded&limit=2")
put("JsonBodyFuzzTest", "requestBodies", "list-importances", b"\x04model=$MODEL")

# uploads: first line Content-Type, the rest the body
B = "XyZ"
mp = ("--%s\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nfuzz\r\n"
      "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.safetensors\"\r\nContent-Type: application/octet-stream\r\n\r\n" % (B, B)).encode()
weights = safetensors({"fc.weight": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4))})
put("UploadFuzzTest", "modelUploads", "multipart", ("multipart/form-data; boundary=%s\n" % B).encode() + mp + weights + ("\r\n--%s--\r\n" % B).encode())
put("UploadFuzzTest", "modelUploads", "raw", b"application/octet-stream\n" + weights)
put("UploadFuzzTest", "modelUploads", "torchscript-zip-header", b"application/octet-stream\nPK\x03\x04" + b"\x00" * 60)
put("UploadFuzzTest", "modelUploads", "json", b"application/json\n{\"path\": \"models/cnn.pt\", \"format\": \"torchscript\"}")
put("UploadFuzzTest", "modelUploads", "text", b"text/plain\nhello")
