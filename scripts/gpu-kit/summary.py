#!/usr/bin/env python3
"""Summarises a gpu-check run: kernel GB/s against one contiguous copy of as many bytes measured in the same
run, and as a fraction of the device's peak bandwidth; per-call latency on a small list against one empty
kernel launch; speed-ups over the PyTorch loops; and the targets (every kernel >= 0.9 of the copy; small-list
calls within 2x an empty launch; accumulate and dampen >= 30x the PyTorch loops). Writes summary.json and
summary.md in the run's directory and prints the Markdown. Exit 1 when the selftest or the benchmark output
is missing or failed (targets are reported, not enforced)."""
import json, os, sys

COPY_TARGET, LAUNCH_TARGET, PYTORCH_TARGET = 0.9, 2.0, 30.0


def fmt(value, pattern):
    return "n/a" if value is None else pattern % value


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def main(out):
    selftest = load(os.path.join(out, "selftest.json"))
    kernels = load(os.path.join(out, "kernels.json"))
    torch = load(os.path.join(out, "pytorch.json"))
    device = open(os.path.join(out, "device.txt")).read().strip() if os.path.exists(os.path.join(out, "device.txt")) else ""
    lines, summary, ok = [], {"device": device}, True
    lines.append("# Lethe GPU check\n")
    lines.append("Device: " + (device.splitlines()[-1] if device else "unknown") + "\n")
    if selftest is None:
        lines.append("Selftest: **no result**\n")
        ok = False
    else:
        failed = selftest.get("failed", 1)
        summary["selftest"] = {"backend": selftest.get("description"), "checks": selftest.get("checks"), "failed": failed}
        lines.append("Selftest on %s: %s checks, %s failed\n" % (selftest.get("description"), selftest.get("checks"), failed))
        for r in selftest.get("results", []):
            if not r.get("passed"):
                lines.append("- FAILED %s: %s" % (r.get("name"), r.get("message")))
        ok = ok and failed == 0
    if kernels is None:
        lines.append("\nKernel benchmark: **no result**\n")
        ok = False
    else:
        by = {k["name"]: k for k in kernels["kernels"]}
        peak = kernels.get("peak_gbps")
        summary["baseline"] = kernels.get("baseline")
        summary["peak_gbps"] = peak
        lines.append("\nKernels on %s, %d tensors, %d floats (medians of %d back-to-back copy/kernel pairs)\n"
                     % (kernels["description"], kernels["tensors"], kernels["params"], kernels["repetitions"]))
        lines.append("Baseline: %s. Peak bandwidth (memory clock x bus width): %s GB/s.\n"
                     % (kernels.get("baseline", "unknown"), fmt(peak, "%.0f")))
        lines.append("| kernel | ms | GB/s | copy GB/s | ratio to copy | of peak | >= %.2f of copy |" % COPY_TARGET)
        lines.append("|---|---:|---:|---:|---:|---:|:---:|")
        rows = []
        for k in kernels["kernels"]:
            met = k["ratio_to_copy"] >= COPY_TARGET
            row = {"kernel": k["name"], "ms": k["ms"], "gbps": k["gbps"], "copy_gbps": k["copy_gbps"],
                   "ratio_to_copy": k["ratio_to_copy"], "fraction_of_peak": k.get("fraction_of_peak")}
            if k["name"] != "copy":
                row["target_met"] = met
            rows.append(row)
            lines.append("| %s | %.4f | %.1f | %.1f | %.2f | %s | %s |" % (
                k["name"], k["ms"], k["gbps"], k["copy_gbps"], k["ratio_to_copy"], fmt(k.get("fraction_of_peak"), "%.2f"),
                "(baseline)" if k["name"] == "copy" else ("yes" if met else "**no**")))
        summary["kernels"] = rows
        small = kernels.get("small_list")
        if small:
            empty = small.get("empty_launch_microseconds")
            lines.append("\nSmall list (%s, %d tensors, %d floats): microseconds per call%s\n"
                         % (small["shapes"], small["tensors"], small["params"],
                            "" if empty is None else ", one empty kernel launch %.2f us" % empty))
            lines.append("| kernel | us per call | x empty launch | <= %.0fx |" % LAUNCH_TARGET)
            lines.append("|---|---:|---:|:---:|")
            small_rows = []
            for k in small["kernels"]:
                ratio = k.get("ratio_to_empty_launch")
                met = None if ratio is None else ratio <= LAUNCH_TARGET
                small_rows.append({"kernel": k["name"], "microseconds": k["microseconds"], "ratio_to_empty_launch": ratio,
                                   "target_met": met})
                lines.append("| %s | %.2f | %s | %s |" % (k["name"], k["microseconds"], fmt(ratio, "%.1f"),
                                                         "n/a" if met is None else ("yes" if met else "**no**")))
            summary["small_list"] = {"empty_launch_microseconds": empty, "kernels": small_rows}
        if torch is not None and torch.get("params") != kernels["params"]:
            summary["pytorch"] = {"skipped": "PyTorch ran %s floats, Lethe %s: not comparable" % (torch.get("params"), kernels["params"])}
            lines.append("\nPyTorch comparison: not comparable (PyTorch ran %s floats, Lethe %s)" % (torch.get("params"), kernels["params"]))
        elif torch is not None:
            acc = torch["accumulate_ms"] / by["accumulate_square"]["ms"]
            damp = torch["dampen_ms"] / by["ssd_dampen"]["ms"]
            summary["pytorch"] = {"torch": torch["torch"], "device": torch["device"], "accumulate_ms": torch["accumulate_ms"],
                                  "dampen_ms": torch["dampen_ms"], "accumulate_speedup": acc, "dampen_speedup": damp,
                                  "target_met": acc >= PYTORCH_TARGET and damp >= PYTORCH_TARGET}
            lines.append("\nAgainst the PyTorch %s loops on %s, same shapes:\n" % (torch["torch"], torch["device"]))
            lines.append("| loop | PyTorch ms | Lethe ms | speed-up | >= %.0fx |" % PYTORCH_TARGET)
            lines.append("|---|---:|---:|---:|:---:|")
            lines.append("| accumulate (imp += g.clone().pow(2)) | %.3f | %.4f | %.1fx | %s |"
                         % (torch["accumulate_ms"], by["accumulate_square"]["ms"], acc, "yes" if acc >= PYTORCH_TARGET else "**no**"))
            lines.append("| SSD dampen (where + indexing) | %.3f | %.4f | %.1fx | %s |"
                         % (torch["dampen_ms"], by["ssd_dampen"]["ms"], damp, "yes" if damp >= PYTORCH_TARGET else "**no**"))
        else:
            lines.append("\nPyTorch comparison: not run (no python3 with torch)")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "gpu-check-out"))
