#!/usr/bin/env bash
# Checks Lethe's kernels on this machine's GPU with the kit's own runtime, and writes what it found to $OUT
# (default ./gpu-check-out):
#   device.txt      nvidia-smi's name, driver and memory of the GPU (when there is one)
#   selftest.json   every kernel against the scalar reference (odd sizes, special values, ResNet-18's list)
#   kernels.json    GB/s of every kernel against one contiguous cudaMemcpyAsync of as many bytes (same run) and
#                   the peak bandwidth; per-call latency on a small list against an empty kernel launch
#   pytorch.json    the PyTorch reference loops on the same ResNet-18 shapes and device (when python3 has torch)
#   summary.md/json the ratios and the targets (kernels >= 0.9 of the copy, small-list calls <= 2x an empty launch;
#                   accumulate and dampen >= 30x PyTorch)
#
#   ./gpu-check.sh [--device cuda|cpu|...] [--quick] [--params N] [--repetitions R]
# Exit status: 0 when the selftest passes and the benchmark ran (targets are reported, not enforced), else 1.
set -uo pipefail
kit=$(cd "$(dirname "$0")" && pwd)
device=cuda quick="" params=11181642 reps=15
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --quick) quick=--quick; shift ;;
    --params) params=$2; shift 2 ;;
    --repetitions) reps=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
out=${OUT:-$PWD/gpu-check-out}
mkdir -p "$out"
rm -f "$out"/{device.txt,selftest.json,selftest.err,kernels.json,kernels.err,pytorch.json,pytorch.err,summary.md,summary.json}
status=0
echo "[gpu-check] kit $(cat "$kit/VERSION"), device $device, results in $out" >&2

if command -v nvidia-smi >/dev/null 2>&1; then
  gpu=0; [[ $device == cuda:* ]] && gpu=${device#cuda:}
  nvidia-smi -i "$gpu" --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv >"$out/device.txt" 2>&1 || true
else
  echo "no nvidia-smi" >"$out/device.txt"
fi

echo "[gpu-check] selftest" >&2
if ! "$kit/bin/lethe" selftest --device "$device" $quick --json >"$out/selftest.json" 2>"$out/selftest.err"; then
  echo "[gpu-check] selftest FAILED (see $out/selftest.json, selftest.err)" >&2
  tail -5 "$out/selftest.err" >&2
  status=1
fi

echo "[gpu-check] bench kernels" >&2
if ! "$kit/bin/lethe" bench kernels --device "$device" --params "$params" --repetitions "$reps" --json \
    >"$out/kernels.json" 2>"$out/kernels.err"; then
  echo "[gpu-check] bench kernels FAILED" >&2
  tail -5 "$out/kernels.err" >&2
  status=1
fi

py=${PYTHON:-python3}
torch_device=$device
[[ $device == cuda* ]] || torch_device=cpu
if "$py" -c "import torch" >/dev/null 2>&1; then
  echo "[gpu-check] PyTorch reference loops ($torch_device)" >&2
  threads=""; [[ $torch_device == cpu ]] && threads="--threads $(nproc)"
  "$py" "$kit/pytorch_kernel_loops.py" --device "$torch_device" --repetitions "$reps" $threads >"$out/pytorch.json" 2>"$out/pytorch.err" \
    || echo "[gpu-check] PyTorch loops failed (see $out/pytorch.err)" >&2
else
  echo "[gpu-check] no python3 with torch: PyTorch comparison skipped" >&2
fi

if command -v "$py" >/dev/null 2>&1; then
  "$py" "$kit/summary.py" "$out" || status=1
else
  echo "[gpu-check] no python3: see $out/*.json" >&2
fi
exit $status
