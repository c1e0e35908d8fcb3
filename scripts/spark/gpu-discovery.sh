#!/usr/bin/env bash
# Spark resource discovery script for GPUs (spark.executor.resource.gpu.discoveryScript, or
# spark.worker.resource.gpu.discoveryScript on a standalone worker): prints the CUDA device ordinals this
# machine has, as Spark expects them, for example {"name": "gpu", "addresses": ["0","1"]}.
# Lethe runs a task that Spark gave address N on cuda:N. CUDA_VISIBLE_DEVICES, when set, limits the list.
set -euo pipefail
if [[ -n "${CUDA_VISIBLE_DEVICES:-}" ]]; then
  n=$(tr ',' '\n' <<< "$CUDA_VISIBLE_DEVICES" | grep -c .)
  ids=$(seq 0 $((n - 1)))
elif command -v nvidia-smi >/dev/null 2>&1; then
  ids=$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null || true)
else
  ids=""
fi
printf '{"name": "gpu", "addresses": ['
sep=""
for i in $ids; do
  printf '%s"%s"' "$sep" "$i"
  sep=","
done
printf ']}\n'
