#!/usr/bin/env python3
"""Summarises a gpu-e2e.sh run: Lethe against PyTorch on the same device, side by side. Writes summary.md and
summary.json into the run's directory and prints the Markdown."""
import json, os, re, sys


def load(out, name):
    try:
        with open(os.path.join(out, name + ".json")) as f:
            text = f.read().strip()
        return json.loads(text) if text else None
    except (OSError, ValueError):
        return None


def rel_diff(a, b):
    worst = 0.0
    for x, y in zip(a or [], b or []):
        scale = max(abs(x), abs(y), 1e-30)
        worst = max(worst, abs(x - y) / scale)
    return worst


def main(out):
    md, summary = ["# Lethe GPU end-to-end run\n"], {}
    device = open(os.path.join(out, "device.txt")).read().strip() if os.path.exists(os.path.join(out, "device.txt")) else "?"
    md.append("Device: " + device.replace("\n", "; ") + "\n")
    st = load(out, "selftest")
    if st:
        md.append("Selftest (%s): %s checks, %s failed\n" % (st.get("description"), st.get("checks"), st.get("failed")))
        summary["selftest"] = {"checks": st.get("checks"), "failed": st.get("failed")}
    torch = load(out, "pytorch-e2e")
    rows = []
    for w in ("e2e-w1", "e2e-w2", "e2e-w4"):
        r = load(out, w)
        if r:
            rows.append((w, r))
    if rows or torch:
        md.append("\n## bench e2e: SSD on resnet18-cifar (batch 128, 10% forgotten)\n")
        md.append("| run | samples | importance D (s) | importance Df (s) | update (s) | total (s) | samples/s | selected |")
        md.append("|---|---|---|---|---|---|---|---|")
        for name, r in rows:
            s = r["seconds"]
            md.append("| Lethe %s (%s workers, model on %s) | %d | %.3f | %.3f | %.3f | %.3f | %.0f | %d |" % (
                name, r["workers"], r["placement"], r["samples"], s["importance_full"], s["importance_forget"], s["update"], s["total"],
                r["samples_per_second"], r["selected"]))
        if torch:
            for variant, v in torch["variants"].items():
                s = v["seconds"]
                md.append("| PyTorch %s (torch %s) | %d | %.3f | %.3f | %.3f | %.3f | %.0f | %d |" % (
                    variant, torch["torch"], torch["samples"], s["importance_full"], s["importance_forget"], s["update"], s["total"],
                    v["samples_per_second"], v["selected"]))
        if torch and rows:
            md.append("")
            for name, r in rows:
                for variant, v in torch["variants"].items():
                    ratio = v["seconds"]["total"] / r["seconds"]["total"]
                    summary.setdefault("e2e_speedup", {})[name + "_vs_" + variant] = ratio
                    md.append("- Lethe %s is %.2fx faster than PyTorch %s (total)" % (name, ratio, variant))
            w1 = dict(rows).get("e2e-w1")
            if w1 and "loop" in torch["variants"]:
                d = rel_diff(w1.get("importance_full_sums"), torch["variants"]["loop"].get("importance_full_sums"))
                summary["importance_full_sums_max_rel_diff"] = d
                md.append("- I_D per-tensor sums, Lethe (1 worker) vs PyTorch loop: max relative difference %.2e (target 1e-4);"
                          " selected %d vs %d" % (d, w1["selected"], torch["variants"]["loop"]["selected"]))
            for name, r in rows[1:]:
                d = rel_diff(rows[0][1].get("importance_full_sums"), r.get("importance_full_sums"))
                md.append("- I_D per-tensor sums, %s vs %s: max relative difference %.2e" % (name, rows[0][0], d))
        summary["e2e"] = {name: r["seconds"] for name, r in rows}
    ps, tps = load(out, "per-sample"), load(out, "pytorch-per-sample")
    if ps or tps:
        md.append("\n## Per-sample Fisher (issue 13): Lethe's fast path against torch.func vmap(grad), same shapes, same device\n")
        if ps:
            shape = "x".join(str(d) for d in ps["input"]["shape"])
            md.append("- Lethe, %s, %d %s samples %s, model on %s: fast path %.3f s, batch pass %.3f s (fast / batch pass %.2f);"
                      " one-sample loop %.3f s on %d samples (%.1fx the fast path per sample); max_rel_diff fast vs loop %.2e" % (
                          ps["model"], ps["samples"], ps["input"]["source"], shape, ps["placement"], ps["fast_seconds"],
                          ps["batch_pass_seconds"], ps["fast_over_batch_pass"], ps["loop_seconds"], ps["loop_samples"],
                          ps["loop_over_fast"], ps["max_rel_diff"]))
            summary["per_sample"] = {k: ps[k] for k in ("samples", "placement", "fast_seconds", "batch_pass_seconds", "loop_seconds",
                                                        "loop_samples", "loop_over_fast", "max_rel_diff")}
        if tps:
            md.append("- PyTorch %s on %s (%s): vmap(grad) %.3f s, batch pass %.3f s, %d samples (vmap vs one-sample loop on %s"
                      " samples: %s)" % (tps["torch"], tps["device_name"], tps["device"], tps["vmap_seconds"], tps["batch_pass_seconds"],
                                         tps["samples"], tps["loop_check_samples"], "%.2e" % tps["loop_check_max_rel_diff"]
                                         if tps.get("loop_check_max_rel_diff") is not None else "not checked"))
            summary["pytorch_per_sample"] = {k: tps[k] for k in ("samples", "vmap_seconds", "batch_pass_seconds")}
        if ps and tps:
            params = re.search(r"(\d+) parameters", ps["model"])
            same = (ps["arch"], ps["samples"], ps["input"]["shape"], int(params.group(1)) if params else None) == (
                tps["arch"], tps["samples"], tps["input"], tps["parameters"])
            if same:
                ratio = tps["vmap_seconds"] / ps["fast_seconds"]
                summary["per_sample_fast_vs_vmap"] = ratio
                md.append("- **vmap(grad) / Lethe fast path: %.2fx** (target at least 5x): %.3f s vs %.3f s" % (
                    ratio, tps["vmap_seconds"], ps["fast_seconds"]))
            else:
                md.append("- not compared: Lethe ran %s on %d samples of %s, PyTorch %s (%d parameters) on %d of %s" % (
                    ps["model"], ps["samples"], ps["input"]["shape"], tps["arch"], tps["parameters"], tps["samples"], tps["input"]))
    cnn = load(out, "forget-cnn")
    tcnn = load(out, "pytorch-cnn")
    if cnn or tcnn:
        md.append("\n## lethe forget on the bundled CNN, all 60,000 Fashion-MNIST images, class 1, SSD\n")
        if cnn:
            s = cnn.get("seconds", {})
            md.append("- Lethe on %s: unlearning %.3f s (importance D %.3f, Df %.3f, update %.3f), evaluation %.3f s; selected %s" % (
                cnn.get("device", cnn.get("backend")), s.get("total", float("nan")), s.get("importance_full", float("nan")),
                s.get("importance_forget", float("nan")), s.get("update", float("nan")), s.get("evaluate") or float("nan"),
                cnn.get("selected")))
            summary["forget_cnn"] = s
        if tcnn:
            v = tcnn["variants"].get("loop") or next(iter(tcnn["variants"].values()))
            md.append("- PyTorch on the GPU: %.3f s (importance D %.3f, Df %.3f, update %.3f); selected %d" % (
                v["seconds"]["total"], v["seconds"]["importance_full"], v["seconds"]["importance_forget"], v["seconds"]["update"],
                v["selected"]))
            summary["pytorch_cnn"] = v["seconds"]
    steps = os.path.join(out, "steps.txt")
    if os.path.exists(steps):
        md.append("\n## steps (name, exit status, seconds)\n")
        md.append("```\n" + open(steps).read().strip() + "\n```")
    text = "\n".join(md) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "gpu-e2e-out")
