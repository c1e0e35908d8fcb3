#!/usr/bin/env bash
# Side-by-side speed of `lethe forget` and the same computation in PyTorch (Python loops, same batches),
# on the bundled Fashion-MNIST CNN over the first N training images, plus the speed-up of a second request
# that reuses a stored D-importance. Each side runs R times; medians are reported.
#   scripts/bench-vs-pytorch.sh [N=10000] [R=3] [METHOD=ssd]
# Needs Fashion-MNIST and, for the PyTorch side, a python3 with torch (Debian: python3-torch).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10000} reps=${2:-3} method=${3:-ssd}
py=${PYTHON:-}
if [[ -z "$py" ]]; then
  for c in python3 /usr/bin/python3; do
    if "$c" -c "import torch" 2>/dev/null; then py=$c; break; fi
  done
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
model="$root/java/lethe-core/src/main/resources/ai/lethe/demo/fmnist-cnn.pt"
lf=""; [[ "$method" == lfssd ]] && lf="--label-free"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

"$root/lethe" --version >/dev/null 2>&1   # build once, outside the timings
echo "model: bundled fmnist-cnn.pt; data: first $n Fashion-MNIST training images; forget class 1; $method; batch 64; $reps runs each"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for i in $(seq "$reps"); do
  if [[ -n "$py" ]]; then
    "$py" "$root/scripts/pytorch_ssd_reference.py" --model "$model" --train-n "$n" $lf >"$work/py$i.json"
  fi
  "$root/lethe" forget --model "$model" --data fashion-mnist --train-limit "$n" --forget-class 1 --method "$method" \
      --out "$work/first.pt" --save-importances "$work/imp" --no-eval --json --quiet 2>/dev/null >"$work/first$i.json"
  "$root/lethe" forget --model "$model" --data fashion-mnist --train-limit "$n" --forget-class 1 --method "$method" \
      --retain-importance "$work/imp/importance_full.safetensors" --out "$work/second.pt" --no-eval --json --quiet \
      2>/dev/null >"$work/second$i.json"
done
first=$(for i in $(seq "$reps"); do json 'd["seconds"]["total"]' <"$work/first$i.json"; done | median)
second=$(for i in $(seq "$reps"); do json 'd["seconds"]["total"]' <"$work/second$i.json"; done | median)
printf 'lethe forget (computes I_D and I_f):          %8.3f s   (%s)\n' "$first" "$(json 'd["device"]' <"$work/first1.json")"
printf 'lethe forget (stored I_D, computes I_f only): %8.3f s   -> %.1fx faster than the first request\n' "$second" \
  "$(python3 -c "print($first/$second)")"
if [[ -n "$py" ]]; then
  pyt=$(for i in $(seq "$reps"); do json 'd["seconds"]["total"]' <"$work/py$i.json"; done | median)
  printf 'PyTorch %s, Python loops (data in memory):  %8.3f s   -> lethe is %.2fx faster\n' \
    "$(json 'd["torch"]' <"$work/py1.json")" "$pyt" "$(python3 -c "print($pyt/$first)")"
  echo "selected: lethe $(json 'd["selected"]' <"$work/first1.json"), pytorch $(json 'd["selected"]' <"$work/py1.json")"
else
  echo "PyTorch side skipped: no python3 with torch found (set PYTHON=... or apt-get install python3-torch)"
fi
