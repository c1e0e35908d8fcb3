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
echo "[gpu-kit] the kit runs: $target/gpu-check-cpu/summary.md"
