#!/usr/bin/env bash
# Fuzzes one target of java/lethe-fuzz with Jazzer's standalone driver for a given time, starting from the
# target's seed corpus; findings go to java/lethe-fuzz/target/fuzz-findings/TARGET/, the growing corpus to
# java/lethe-fuzz/target/fuzz-corpus/TARGET/. libFuzzer's final line gives the executions and the coverage.
#
#   scripts/fuzz.sh IdxFuzzTest 600          # 10 minutes
#   scripts/fuzz.sh all 300                  # every target, 5 minutes each
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: scripts/fuzz.sh TARGET|all SECONDS}"
seconds="${2:?usage: scripts/fuzz.sh TARGET|all SECONDS}"
module=java/lethe-fuzz
if [ "$target" = all ]; then
  for t in IdxFuzzTest NpyFuzzTest SafetensorsFuzzTest ImportanceFuzzTest ForgetIndicesFuzzTest JsonBodyFuzzTest UploadFuzzTest; do
    "$0" "$t" "$seconds"
  done
  exit 0
fi
if [ ! -f "$module/target/fuzz.classpath" ] || [ -n "$(find java/*/src pom.xml java/*/pom.xml -newer "$module/target/fuzz.classpath" -print -quit)" ]; then
  mvn -B -q -o -pl "$module" -am test-compile dependency:build-classpath -Dmdep.outputFile=target/fuzz.classpath \
      -Dmdep.includeScope=test >&2
fi
method_dir=$(ls -d "$module/src/test/resources/ai/lethe/fuzz/${target}Inputs"/*/ | head -1)
corpus="$module/target/fuzz-corpus/$target"
findings="$module/target/fuzz-findings/$target"
mkdir -p "$corpus" "$findings"
cp=$(cat "$module/target/fuzz.classpath"):java/lethe-core/target/classes:java/lethe-server/target/classes:$module/target/test-classes
exec java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx768m -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=error \
  -cp "$cp" com.code_intelligence.jazzer.Jazzer --target_class="ai.lethe.fuzz.$target" \
  --instrumentation_includes='ai.lethe.**' --disabled_hooks=com.code_intelligence.jazzer.sanitizers.ServerSideRequestForgery \
  --keep_going="${LETHE_FUZZ_KEEP_GOING:-1}" \
  -max_total_time="$seconds" -timeout=30 -artifact_prefix="$findings/" -print_final_stats=1 "$corpus" "$method_dir"
