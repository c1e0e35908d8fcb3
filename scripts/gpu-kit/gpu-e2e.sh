#!/usr/bin/env bash
# The whole pipeline on the GPU machine, from the full GPU kit (scripts/gpu-kit.sh --full), each job beside the same
# job in PyTorch on the same device, in one run. Writes one JSON (and .err) per step to $OUT (default ./gpu-e2e-out)
# and prints summary.md:
#   selftest      every kernel against the scalar reference (CUDA), lethe selftest
#   e2e-w1/2/4    lethe bench e2e: SSD on resnet18-cifar, 50,000 seeded synthetic samples, batch 128, 10% forgotten,
#                 1, 2 and 4 importance workers;  pytorch-e2e: scripts/pytorch_ssd_gpu.py on the same model file and
#                 samples (per-parameter loop and torch._foreach_addcmul_)
#   per-sample    lethe bench per-sample (issue 13): the per-sample Fisher's fast path on resnet18-cifar, 5,000 seeded
#                 synthetic 3x32x32 samples (the one-sample loop on the first 200, the threaded loop skipped), the model
#                 on the GPU;  pytorch-per-sample: scripts/pytorch_per_sample_fisher.py, torch.func vmap(grad) and a
#                 batch pass on the same shapes (target: Lethe's fast path at least 5x faster than vmap(grad))
#   forget-cnn    lethe forget on the bundled CNN with all 60,000 Fashion-MNIST images, class 1, SSD, --device cuda;
#                 pytorch-cnn the same job in PyTorch on the GPU
#   tests         the CUDA-only JUnit tests, when the kit carries them (tests/)
#   ./gpu-e2e.sh [--quick]        (--quick: 5,000 samples; ONLY="e2e-w1 pytorch-e2e" runs just those steps;
#                                  DEVICE=cpu SAMPLES=256 E2E_ARGS="--width 8" runs the same steps small on the CPU,
#                                  to check the kit where there is no GPU; PER_SAMPLE_SAMPLES=16
#                                  PER_SAMPLE_ARGS="--width 8 --repetitions 1"
#                                  does the same for the two per-sample steps)
set -uo pipefail
kit=${KIT:-$(cd "$(dirname "$0")" && pwd)}
out=${OUT:-$PWD/gpu-e2e-out}
mkdir -p "$out"
samples=${SAMPLES:-50000}
[[ ${1:-} == --quick ]] && samples=5000
extra=${E2E_ARGS:-}   # more bench e2e options, e.g. "--width 8" for a dry run on the CPU
ps_samples=${PER_SAMPLE_SAMPLES:-5000}   # the per-sample steps (issue 13's figure is on 5,000 samples)
ps_loop=$(( ps_samples < 200 ? ps_samples : 200 ))
ps_extra=${PER_SAMPLE_ARGS:-}   # options both per-sample steps take, e.g. "--width 8"
nv=/opt/torch/.venv/lib/python3.12/site-packages/nvidia
export LD_LIBRARY_PATH=$(find "$nv" -name 'lib*.so*' -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export FMNIST=$kit/data LETHE_KIT_CACHE=${LETHE_KIT_CACHE:-/tmp/lethe-kit-cache}
py=${PYTHON:-/opt/torch/.venv/bin/python3}
command -v "$py" >/dev/null 2>&1 || py=python3
lethe=$kit/bin/lethe
device=${DEVICE:-cuda}
torch_device=cuda; [[ $device == cuda* ]] || torch_device=cpu

step() { # step NAME SECONDS COMMAND...: stdout to NAME.json, stderr to NAME.err
  local name=$1 limit=$2; shift 2
  if [[ -n "${ONLY:-}" && " $ONLY " != *" $name "* ]]; then return 0; fi
  local t0=$SECONDS
  echo "[gpu-e2e] $name: $*" >&2
  timeout "$limit" "$@" >"$out/$name.json" 2>"$out/$name.err"
  local rc=$?
  echo "[gpu-e2e] $name: exit $rc after $((SECONDS - t0)) s" >&2
  [[ $rc == 0 ]] || tail -4 "$out/$name.err" >&2
  echo "$name $rc $((SECONDS - t0))" >>"$out/steps.txt"
}

[[ -z "${ONLY:-}" ]] && rm -f "$out/steps.txt"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$out/device.txt" 2>&1
else
  echo "no nvidia-smi: $(uname -n), $(nproc) cores" >"$out/device.txt"
fi
cat "$out/device.txt" >&2
git_version=$(cat "$kit/VERSION" 2>/dev/null || echo unknown)
echo "kit $git_version" >>"$out/device.txt"

# Most telling first: a run cut short by its time limit still leaves the main comparisons in $OUT.
step e2e-w1 150 "$lethe" bench e2e --device "$device" --samples "$samples" --workers 1 $extra --save-model /tmp/e2e-model.safetensors --json
step pytorch-e2e 150 "$py" "$kit/pytorch_ssd_gpu.py" --model /tmp/e2e-model.safetensors --samples "$samples" --device "$torch_device" $extra
step per-sample 150 "$lethe" bench per-sample --arch resnet18-cifar --input 3,32,32 --samples "$ps_samples" \
  --loop-samples "$ps_loop" --skip-threaded --device "$device" $ps_extra --json
step pytorch-per-sample 150 "$py" "$kit/pytorch_per_sample_fisher.py" --arch resnet18-cifar --input 3,32,32 \
  --samples "$ps_samples" --device "$torch_device" $ps_extra
step e2e-w4 150 "$lethe" bench e2e --device "$device" --samples "$samples" --workers 4 $extra --json
if [[ -f "$kit/data/train-images-idx3-ubyte.gz" ]]; then
  step forget-cnn 150 "$lethe" forget --model "$kit/fmnist-cnn.pt" --data "idx:$kit/data" --forget-class 1 --method ssd \
    --device "$device" --out /tmp/forgotten-cnn.pt --json
  step pytorch-cnn 120 "$py" "$kit/pytorch_ssd_gpu.py" --cnn "$kit/fmnist-cnn.pt" --train-n 60000 --forget-class 1 --variants loop --device "$torch_device"
fi
if [[ -d "$kit/tests" ]]; then
  step tests 150 "$kit/runtime/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -Dorg.bytedeco.javacpp.maxBytes=0 -Dorg.bytedeco.javacpp.cachedir="$LETHE_KIT_CACHE" \
    -Dlethe.test.data="idx:$kit/data" \
    -cp "$kit/tests/classes:$kit/lib/*:$kit/tests/junit-platform-console-standalone.jar" org.junit.platform.console.ConsoleLauncher \
    execute --select-class ai.lethe.gpu.CudaPipelineTest --details=tree --disable-banner --disable-ansi-colors
fi
step e2e-w2 150 "$lethe" bench e2e --device "$device" --samples "$samples" --workers 2 $extra --json
step selftest 150 "$lethe" selftest --device "$device" --json
"$py" "$kit/gpu-e2e-summary.py" "$out" 2>&1 || echo "[gpu-e2e] no summary (see $out)" >&2
