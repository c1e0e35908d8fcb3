#!/usr/bin/env bash
# The per-sample estimator before its fast path (commit cba9bc8, one backward pass per sample) against the current
# build's default, side by side: each build's ImportanceEstimator on the zoo cnn (seed 0) over the first N
# Fashion-MNIST images held in memory, medians of R rounds after W untimed warm-up passes (the current build's
# pooled-convolution kernels are Java code that C2 compiles after a few thousand calls; a long run amortises that),
# three alternations. Builds the old commit in a temporary git worktree (a few minutes the first time).
#
#   scripts/per-sample/then-and-now.sh [N=2000] [R=3] [W=3]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-2000}
reps=${2:-3}
warm=${3:-3}
old=${LETHE_OLD_TREE:-/tmp/lethe-cba9bc8}
if [[ ! -d "$old" ]]; then
  git -C "$root" worktree add --detach "$old" cba9bc8 >&2
fi
[[ -f "$old/java/lethe-cli/target/lethe-cli.jar" ]] || (cd "$old" && mvn -B -q -DskipTests package -pl java/lethe-core,java/lethe-cli -am >&2)
[[ -f "$root/java/lethe-cli/target/lethe-cli.jar" ]] || (cd "$root" && mvn -B -q -DskipTests package -pl java/lethe-core,java/lethe-cli -am >&2)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for build in old now; do
  tree=$([[ $build == old ]] && echo "$old" || echo "$root")
  mkdir -p "$work/$build"
  javac -d "$work/$build" -cp "$tree/java/lethe-cli/target/lethe-cli.jar" "$root/scripts/per-sample/Today.java"
done
for round in 1 2 3; do
  for build in old now; do
    tree=$([[ $build == old ]] && echo "$old" || echo "$root")
    printf '%s (%s): ' "$build" "$([[ $build == old ]] && echo cba9bc8 || git -C "$root" rev-parse --short HEAD)"
    java --add-modules jdk.incubator.vector -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dorg.bytedeco.javacpp.maxBytes=0 \
      -cp "$work/$build:$tree/java/lethe-cli/target/lethe-cli.jar" Today "$n" "$reps" "$warm" 2>/dev/null | grep per-sample
  done
done
