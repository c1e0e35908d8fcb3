#!/usr/bin/env bash
# Builds the GPU kit: a self-contained bundle (at most 60 MiB) that checks Lethe's CUDA kernels on a machine
# with no Maven and no network:
#   runtime/   a jlink'd Java runtime with only the modules Lethe needs
#   lib/       the Lethe jars and their dependencies, without the native libtorch/OpenBLAS jars
#              (lethe-core's jar carries liblethe_cuda.so: sm_80 and sm_90 code plus PTX, cudart static)
#   bin/lethe  the runner;  gpu-check.sh  selftest + kernel benchmark + the PyTorch loops, with a summary
#
#   scripts/gpu-kit.sh [--out DIR] [--no-build] [--allow-no-cuda] [--full]      (default DIR: target/gpu-kit)
# --allow-no-cuda builds a CPU-only kit (a warning, not an error) when the CUDA back end was not built.
# --full adds what the whole pipeline needs on the GPU (about 530 MB, over one transfer: send it with
#   ../shared/tools/device-chunks.sh): libtorch's CUDA build (org.bytedeco:pytorch linux-x86_64-gpu, fetched into
#   ~/.m2 by Maven when missing), the CUDA and OpenBLAS presets' natives, Fashion-MNIST (data/), the bundled CNN, and
#   gpu-e2e.sh: bench e2e (1, 2 and 4 workers) beside scripts/pytorch_ssd_gpu.py, lethe forget on the CNN with all
#   60,000 images beside the same job in PyTorch, bench per-sample on resnet18-cifar beside
#   scripts/pytorch_per_sample_fisher.py (torch.func vmap(grad)), the selftest and the CUDA tests.
# Environment: LETHE_KIT_JDK = the JDK whose jlink builds the runtime (default: Temurin 25 when installed,
# else $JAVA_HOME, else the java on PATH).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
out="$root/target/gpu-kit"
build=1
allow_no_cuda=0
full=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --allow-no-cuda) allow_no_cuda=1; shift ;;
    --full) full=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-kit: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
limit_mib=60

if [[ $build == 1 ]]; then
  echo "[gpu-kit] building (mvn -B -q -DskipTests package)" >&2
  (cd "$root" && mvn -B -q -DskipTests package >&2)
fi
cli="$root/java/lethe-cli/target"
[[ -f "$cli/lethe-cli.jar" && -d "$cli/lib" ]] || { echo "gpu-kit: $cli/lethe-cli.jar is missing; build first (mvn package)" >&2; exit 1; }
cores=("$cli"/lib/lethe-core-*.jar)
[[ ${#cores[@]} == 1 && -f ${cores[0]} ]] || { echo "gpu-kit: expected one lethe-core jar in $cli/lib, found: ${cores[*]}" >&2; exit 1; }
core=${cores[0]}
command -v unzip >/dev/null || { echo "gpu-kit: needs unzip (to look inside $core)" >&2; exit 1; }
if ! unzip -Z1 "$core" | grep 'liblethe_cuda\.so' >/dev/null; then
  echo "gpu-kit: $core has no liblethe_cuda.so: the CUDA back end was not built (nvcc missing or LETHE_CUDA=off)" >&2
  [[ $allow_no_cuda == 1 ]] || exit 1
  echo "gpu-kit: building a CPU-only kit (--allow-no-cuda)" >&2
fi

jdk=${LETHE_KIT_JDK:-}
if [[ -z "$jdk" ]]; then
  for c in /usr/lib/jvm/temurin-25-jdk-amd64 "${JAVA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"; do
    if [[ -n "$c" && -x "$c/bin/jlink" ]]; then jdk=$c; break; fi
  done
fi
[[ -n "$jdk" && -x "$jdk/bin/jlink" ]] || { echo "gpu-kit: no JDK with jlink found; set LETHE_KIT_JDK" >&2; exit 1; }
feature=$("$jdk/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
[[ $feature =~ ^[0-9]+$ && $feature -ge 17 ]] || { echo "gpu-kit: $jdk is Java '$feature'; Lethe needs 17 or newer" >&2; exit 1; }

rm -rf "$out.tmp"
mkdir -p "$out.tmp/lib" "$out.tmp/bin"
# The jars the kit's commands (selftest, bench kernels) run on: not the native jars of libtorch and OpenBLAS
# (over 100 MB), not the service's (Javalin, Jetty, SQLite: lethe serve is not part of the kit).
for j in "$cli/lethe-cli.jar" "$cli"/lib/*.jar; do
  case "$(basename "$j")" in
    pytorch-*-linux-*.jar|openblas-*-linux-*.jar) ;;
    lethe-cli*.jar|lethe-core-*.jar|picocli-*.jar|jackson-*.jar|slf4j-*.jar|javacpp-*.jar|pytorch-*.jar|openblas-*.jar|cuda-*.jar)
      cp "$j" "$out.tmp/lib/" ;;
  esac
done
if [[ $full == 1 ]]; then
  # libtorch's CUDA build and the natives of the presets beside it, from the local Maven repository
  m2=${MAVEN_REPO:-$HOME/.m2/repository}/org/bytedeco
  want=("pytorch/2.10.0-1.5.13/pytorch-2.10.0-1.5.13-linux-x86_64-gpu.jar" "cuda/13.1-9.19-1.5.13/cuda-13.1-9.19-1.5.13-linux-x86_64.jar"
        "openblas/0.3.31-1.5.13/openblas-0.3.31-1.5.13-linux-x86_64.jar")
  for w in "${want[@]}"; do
    if [[ ! -f "$m2/$w" ]]; then
      coords=$(basename "$w" .jar | sed -E 's/^(pytorch|cuda|openblas)-(.*)-(linux-x86_64(-gpu)?)$/org.bytedeco:\1:\2:jar:\3/')
      echo "[gpu-kit] fetching $coords" >&2
      (cd "$root" && mvn -B -q dependency:get -Dartifact="$coords" -Dtransitive=false >&2)
    fi
    cp "$m2/$w" "$out.tmp/lib/"
  done
  mkdir -p "$out.tmp/data"
  cp /usr/share/datasets/fashion-mnist/*-ubyte.gz "$out.tmp/data/" 2>/dev/null \
    || echo "[gpu-kit] no Fashion-MNIST in /usr/share/datasets/fashion-mnist: the CNN job will be skipped" >&2
  cp "$root/java/lethe-core/src/main/resources/ai/lethe/demo/fmnist-cnn.pt" "$out.tmp/"
  cp "$root/scripts/gpu-kit/gpu-e2e.sh" "$root/scripts/gpu-kit/gpu-e2e-summary.py" "$root/scripts/pytorch_ssd_gpu.py" \
    "$root/scripts/pytorch_per_sample_fisher.py" "$root/scripts/zoo_torch.py" "$out.tmp/"
  if [[ -d "$root/java/lethe-core/target/test-classes" && -n "${LETHE_KIT_TESTS:-}" ]]; then
    # the CUDA-only JUnit tests, run there with JUnit's console launcher (LETHE_KIT_TESTS = its standalone jar)
    mkdir -p "$out.tmp/tests"
    cp -r "$root/java/lethe-core/target/test-classes" "$out.tmp/tests/classes"
    cp "$LETHE_KIT_TESTS" "$out.tmp/tests/junit-platform-console-standalone.jar"
  fi
  chmod +x "$out.tmp/gpu-e2e.sh"
  limit_mib=1024
fi

# jdk.unsupported: JavaCPP's sun.misc.Unsafe; java.logging: JavaCPP's and SLF4J's optional paths.
modules=java.base,jdk.incubator.vector,jdk.unsupported,java.logging
[[ $full == 1 ]] && modules=$modules,java.desktop   # the forget report's charts
compress=--compress=2
[[ $feature -ge 21 ]] && compress=--compress=zip-9
echo "[gpu-kit] jlink ($jdk, Java $feature): $modules" >&2
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages "$compress" \
  --output "$out.tmp/runtime" 2> >(grep -v 'is deprecated' >&2)

unsafe=""
[[ $feature -ge 23 ]] && unsafe="--sun-misc-unsafe-memory-access=allow"   # JavaCPP still uses sun.misc.Unsafe
cat > "$out.tmp/bin/lethe" <<RUNNER
#!/bin/sh
# Lethe from the GPU kit: the bundled runtime, the bundled jars. LETHE_JAVA_OPTS adds JVM options.
kit=\$(cd "\$(dirname "\$0")/.." && pwd)
exec "\$kit/runtime/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED $unsafe \\
  -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dorg.bytedeco.javacpp.maxBytes=0 \\
  -Dorg.bytedeco.javacpp.cachedir="\${LETHE_KIT_CACHE:-\${TMPDIR:-/tmp}/lethe-kit-cache}" \\
  \${LETHE_JAVA_OPTS:-} -cp "\$kit/lib/*" ai.lethe.cli.Main "\$@"
RUNNER
chmod +x "$out.tmp/bin/lethe"
cp "$root/scripts/gpu-kit/gpu-check.sh" "$root/scripts/gpu-kit/summary.py" "$root/scripts/pytorch_kernel_loops.py" "$out.tmp/"
chmod +x "$out.tmp/gpu-check.sh"
git -C "$root" describe --always --dirty > "$out.tmp/VERSION" 2>/dev/null || echo unknown > "$out.tmp/VERSION"

size_kib=$(du -sk "$out.tmp" | cut -f1)
if (( size_kib > limit_mib * 1024 )); then
  echo "gpu-kit: the kit is $((size_kib / 1024)) MiB, over the ${limit_mib} MiB a device call carries" >&2
  du -sh "$out.tmp"/* >&2
  exit 1
fi
rm -rf "$out"
mv "$out.tmp" "$out"
echo "[gpu-kit] $out: $((size_kib / 1024)) MiB (runtime $(du -sh "$out/runtime" | cut -f1), jars $(du -sh "$out/lib" | cut -f1)); run $out/gpu-check.sh" >&2
if [[ $full == 1 ]]; then
  echo "[gpu-kit] over one transfer: from the project's root, ../shared/tools/device-chunks.sh ${out#$root/} and run the printed calls;" \
       "then on the device: /tmp/stage/${out#$root/}/gpu-e2e.sh" >&2
fi
