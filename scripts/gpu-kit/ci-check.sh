#!/usr/bin/env bash
# The GPU kit on the CPU, as `mvn verify` runs it: build the kit from the packaged jars (no Maven inside
# Maven), then run its gpu-check.sh with --device cpu on a small list. Fails when the kit cannot be built,
# exceeds its size limit, does not start, or a kernel disagrees with the reference.
#   scripts/gpu-kit/ci-check.sh TARGET_DIR      (lethe-cli's target directory)
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
target=${1:?usage: ci-check.sh TARGET_DIR}
"$here/../gpu-kit.sh" --no-build --allow-no-cuda --out "$target/gpu-kit"
OUT="$target/gpu-check-cpu" "$target/gpu-kit/gpu-check.sh" --device cpu --quick --params 1000000 --repetitions 5
# The summary shows the kernels against the one contiguous copy and the small list's latencies.
summary="$target/gpu-check-cpu/summary.md"
for expected in "Baseline: the vector back end's copy over one contiguous array of 1,000,000 floats" \
                "| copy |" "Small list (bundled Fashion-MNIST CNN, 8 tensors, 105866 floats)" "| stats |"; do
  grep -qF "$expected" "$summary" || { echo "[gpu-kit] $summary lacks: $expected" >&2; exit 1; }
done
echo "[gpu-kit] the kit runs: $target/gpu-check-cpu/summary.md"
