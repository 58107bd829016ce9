#!/usr/bin/env bash
# Fuzz one target for a while, e.g.
#   scripts/fuzz.sh 'IdxFuzzTest#file' 10m
# Targets of receptive-core: SafetensorsFuzzTest#read, IdxFuzzTest#file, IdxFuzzTest#gzipped,
# IdxFuzzTest#dataset, ImageInputFuzzTest#load, ImageInputFuzzTest#loadBytes,
# ModelFilesFuzzTest#modelFile, ModelFilesFuzzTest#checkpoint, ModelFilesFuzzTest#architecture;
# of receptive-onnx: OnnxFuzzTest#read. Extra arguments go to Maven (e.g. -o).
#
# The fuzzer starts from the committed inputs (<module>/src/test/resources/dev/receptive/
# fuzz/<Class>Inputs/<method>/) and what earlier runs found (.cifuzz-corpus/, not committed).
# It stops at the first input that breaks the target's contract and writes it to crash-<sha1>
# in the repository root: fix the code, move the file into the target's Inputs folder so that
# every build replays it, and fuzz again. libFuzzer's last lines give the executions
# ("Done N runs in S second(s)").
set -euo pipefail
target="${1:?usage: scripts/fuzz.sh 'Class#method' [duration, default 10m] [maven args...]}"
duration="${2:-10m}"
shift $(( $# >= 2 ? 2 : 1 ))
cd "$(dirname "$0")/.."
# The ONNX reader lives in its own module, and its input is parsed by protobuf-java first.
case "$target" in
    Onnx*) module=receptive-onnx; parsers='com.google.protobuf.**' ;;
    *) module=receptive-core; parsers='com.google.gson.**:com.sun.imageio.**:javax.imageio.**:java.util.zip.**' ;;
esac
# JUnit would stop the whole fuzzing run at the target's @Timeout; Jazzer passes it to libFuzzer
# as the limit per input instead. Coverage is also measured inside the parsers Receptive uses
# (Gson, the JDK's image decoders and gzip), which Jazzer leaves alone unless told: without
# them the image target reached 166 branches in 10 minutes, with them 2,475.
JAZZER_FUZZ=1 exec mvn -B test -pl "$module" -am -Dtest="$target" -Dsurefire.failIfNoSpecifiedTests=false \
    -Djazzer.max_duration="$duration" -Djunit.jupiter.execution.timeout.mode=disabled \
    -Djazzer.instrumentation_includes="dev.receptive.**:$parsers" \
    "$@"
