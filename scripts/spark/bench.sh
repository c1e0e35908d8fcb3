#!/usr/bin/env bash
# Measures lethe fisher --spark against the single-process lethe fisher on Fashion-MNIST, side by side in one run
# (the machine may be shared: compare within a run, not across runs):
#   scripts/spark/bench.sh [SAMPLES] [ROUNDS] [OUT]      (default 10000 samples, 2 rounds, target/spark-bench)
# "pass" is the importance pass alone (for Spark: the job, without starting Spark); "CPU" is user + system time of
# the whole process, which a busy machine disturbs less than wall time.
# Every configuration gives libtorch one thread per task (OMP_NUM_THREADS=1 for the single process), so local[1]
# and the single process do the same work on one core. Prints seconds and samples/s per configuration.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
n=${1:-10000}
rounds=${2:-2}
out=${3:-$root/target/spark-bench}
mkdir -p "$out"
model=$root/java/lethe-core/src/main/resources/ai/lethe/demo/fmnist-cnn.pt
est=${LETHE_BENCH_ESTIMATOR:-per-sample}
run() { # name, extra args...
  local name=$1; shift
  OMP_NUM_THREADS=1 LETHE_NO_BUILD=1 /usr/bin/time -f "%e %U %S" -o "$out/$name.time" "$root/lethe" fisher --model "$model" \
    --data fashion-mnist --train-limit "$n" --estimator "$est" --device cpu --out "$out/$name.safetensors" -q "$@" \
    > "$out/$name.log" 2>&1
  python3 - "$name" "$n" "$out/$name.time" "$out/$name.log" <<'PY'
import re, sys
name, n = sys.argv[1], int(sys.argv[2])
wall, user, sys_ = map(float, open(sys.argv[3]).read().split()[-3:])
log = open(sys.argv[4]).read()
job = re.search(r"([0-9.]+) s the job", log)
inside = re.search(r"samples?, ([0-9.]+) s\n", log) or re.search(r"batches, ([0-9.]+) s\n", log)
pass_s = float(job.group(1)) if job else float(inside.group(1))
print(f"{name:8s} process {wall:7.1f} s wall, {user + sys_:7.1f} s CPU | pass {pass_s:7.1f} s = {n / pass_s:6.1f} samples/s")
PY
}
echo "$est, $n samples, $rounds rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  run single
  run local1 --spark 'local[1]' --spark-partitions 2
  run local2 --spark 'local[2]' --spark-partitions 4
  [[ -n "${LETHE_BENCH_LOCAL4:-}" ]] && run local4 --spark 'local[4]' --spark-partitions 8
done
for name in local1 local2 ${LETHE_BENCH_LOCAL4:+local4}; do
  echo "--- $name against single"
  python3 "$root/scripts/spark/compare-importances.py" "$out/single.safetensors" "$out/$name.safetensors" | tail -1
done
