#!/usr/bin/env bash
# Builds a self-contained folder that runs Receptive's GPU tests and benchmark on a CUDA host
# without a JDK, Maven or network (see docs/cuda.md, "Running on a host without Java"):
#
#   scripts/gpu-bundle.sh [BUNDLE_DIR]        (default ./gpu-bundle, ignored by git)
#   BUNDLE_DIR/run.sh [OUTPUT_DIR]            (on the GPU host; logs go to OUTPUT_DIR, default BUNDLE_DIR/logs)
#
# The bundle holds a jlink'ed Java runtime, receptive.jar (target/receptive.jar without the JCuda
# natives Receptive never loads), the compiled tests, the JUnit console launcher, the original
# JCublas native (run.sh retargets it to CUDA 13's cuBLAS where needed) and run.sh.
# Environment: JLINK_JDK, the JDK whose jlink and jmods make the runtime (default: the JDK 17
# that runs Maven); SKIP_BUILD=1 reuses target/ as it is.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bundle=$(mkdir -p "${1:-$root/gpu-bundle}" && cd "${1:-$root/gpu-bundle}" && pwd)
jdk=${JLINK_JDK:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
junit=org.junit.platform:junit-platform-console-standalone:1.11.4
junit_jar=$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/1.11.4/junit-platform-console-standalone-1.11.4.jar
native=libJCublas2-12.6.0-linux-x86_64.so

cd "$root"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    mvn -q -B -o package -DskipTests
fi
[ -f "$junit_jar" ] || mvn -q -B dependency:get -Dartifact="$junit" # from Maven Central, once

rm -rf "${bundle:?}"/*
mkdir -p "$bundle/natives"

# The jar, minus natives that are never loaded (NVRTC, the PTX compiler, cuBLAS v1): 8 MB less.
cp target/receptive.jar "$bundle/receptive.jar"
zip -q -d "$bundle/receptive.jar" 'lib/libJNvPTXCompiler-*' 'lib/libJNvrtc-*' 'lib/libJCublas-*'
unzip -q -j -o target/receptive.jar "lib/$native" -d "$bundle/natives"

cp -r target/test-classes "$bundle/test-classes"
cp "$junit_jar" "$bundle/junit-platform-console-standalone.jar"

# A runtime with just the modules the jar and the test launcher use.
modules=$("$jdk/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 17 -q \
    "$bundle/receptive.jar" "$bundle/junit-platform-console-standalone.jar")
"$jdk/bin/jlink" --add-modules "$modules,jdk.unsupported,java.management" --strip-debug --no-man-pages \
    --no-header-files --compress=2 --output "$bundle/jre"
# Some JDK builds keep the symbol table in libjvm.so (4 MB, only read by crash reports).
if command -v strip > /dev/null; then
    strip --strip-unneeded "$bundle/jre/lib/server/libjvm.so"
fi

cp "$root/scripts/gpu-bundle-run.sh" "$bundle/run.sh"
chmod +x "$bundle/run.sh"
echo "gpu-bundle.sh: $(du -sh "$bundle" | cut -f1) in $bundle (modules: $modules)"
