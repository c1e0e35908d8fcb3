#!/usr/bin/env bash
# Builds the CUDA back end (liblethe_cuda.so) with CMake + nvcc, called by Maven in lethe-core.
#   cmake/build-native.sh BUILD_DIR OUTPUT_DIR STATUS_FILE
# When nvcc is absent (or LETHE_CUDA=off) it builds nothing, says so, and still succeeds: Lethe then
# runs on its CPU back ends. STATUS_FILE receives `lethe.cuda.skip=true|false` for the JavaCPP step.
set -euo pipefail
build_dir=$1 out_dir=$2 status_file=$3
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$(dirname "$status_file")" "$out_dir"

skip() {
  echo "[lethe] CUDA back end skipped: $1. Lethe will use its CPU back ends (vector, scalar)."
  echo "lethe.cuda.skip=true" > "$status_file"
  rm -f "$out_dir/liblethe_cuda.so"
  exit 0
}

[[ "${LETHE_CUDA:-auto}" == off ]] && skip "LETHE_CUDA=off"
nvcc=$(command -v nvcc || true)
[[ -z "$nvcc" && -x /usr/local/cuda/bin/nvcc ]] && nvcc=/usr/local/cuda/bin/nvcc
[[ -z "$nvcc" ]] && skip "nvcc not found (put the CUDA toolkit's bin/ on PATH to build it)"
command -v cmake >/dev/null || skip "cmake not found"

echo "[lethe] building the CUDA back end with $nvcc ($("$nvcc" --version | tail -n 1))"
cmake -S "$root/cmake" -B "$build_dir" -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_BUILD_TYPE=Release >"$build_dir.log" 2>&1 \
  || { cat "$build_dir.log"; echo "[lethe] CMake configuration failed" >&2; exit 1; }
cmake --build "$build_dir" -j "$(nproc)" >>"$build_dir.log" 2>&1 \
  || { cat "$build_dir.log"; echo "[lethe] CUDA build failed" >&2; exit 1; }
cp "$build_dir/liblethe_cuda.so" "$out_dir/liblethe_cuda.so"
echo "lethe.cuda.skip=false" > "$status_file"
echo "[lethe] CUDA back end built: $out_dir/liblethe_cuda.so"
