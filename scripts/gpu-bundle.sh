#!/usr/bin/env bash
# Builds the GPU bundle: everything Receptive's GPU verification needs on a CUDA host that has no
# JDK, Maven or network, in two files (see docs/cuda.md, "The GPU bundle"):
#
#   scripts/gpu-bundle.sh [BUNDLE_DIR]     (default ./gpu-bundle, ignored by git)
#   BUNDLE_DIR/run.sh OUT                  (on the GPU host: every result goes under OUT)
#
# BUNDLE_DIR/payload.tar.gz holds a jlink'ed Java runtime (jre/), lib/receptive.jar (the command line
# without the JCuda natives Receptive never loads), lib/tests.jar (the compiled tests of receptive-core,
# whose contract suites the CUDA tests extend, and of receptive-cuda), the JUnit console launcher, the
# original JCublas native (run.sh retargets it to CUDA 13's cuBLAS where needed), the PyTorch W1
# benchmarks (eager; eager, autocast bf16 and CUDA graphs for the compare step) and BUILD-INFO. run.sh unpacks it under OUT.
#
# Environment: JLINK_JDK, the JDK whose jlink makes the runtime (default: a Temurin JDK under
# /usr/lib/jvm, whose binaries need only glibc 2.17, else the JDK that runs Maven); SKIP_BUILD=1
# reuses the modules' target/ folders as they are.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bundle=$(mkdir -p "${1:-$root/gpu-bundle}" && cd "${1:-$root/gpu-bundle}" && pwd)
junit_version=1.11.4 # the JUnit Platform of JUnit Jupiter 5.11.4 (pom.xml)
junit_jar=$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$junit_version/junit-platform-console-standalone-$junit_version.jar
native=libJCublas2-12.6.0-linux-x86_64.so
limit=$((45 << 20))

if [ -n "${JLINK_JDK:-}" ]; then
    jdk=$JLINK_JDK
else
    jdk=$(ls -d /usr/lib/jvm/temurin-*-jdk* 2> /dev/null | sort -V | tail -n 1)
    [ -n "$jdk" ] && [ -x "$jdk/bin/jlink" ] || jdk=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
fi

cd "$root"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    # package compiles the tests too (-DskipTests only skips running them).
    mvn -q -B -o package -DskipTests || mvn -q -B package -DskipTests
fi
if [ ! -f "$junit_jar" ]; then
    mvn -q -B dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_version"
fi
for f in receptive-cli/target/receptive.jar receptive-core/target/test-classes receptive-cuda/target/test-classes; do
    [ -e "$f" ] || { echo "gpu-bundle.sh: $f is missing (build with SKIP_BUILD unset)" >&2; exit 1; }
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/lib" "$stage/natives" "$stage/bench/pytorch"

# The jar, minus natives that are never loaded (NVRTC, the PTX compiler, cuBLAS v1) and jline's
# Windows and macOS natives: 12 MB less.
cp receptive-cli/target/receptive.jar "$stage/lib/receptive.jar"
zip -q -d "$stage/lib/receptive.jar" 'lib/libJNvPTXCompiler-*' 'lib/libJNvrtc-*' 'lib/libJCublas-*' \
    'org/jline/nativ/Windows/*' 'org/jline/nativ/Mac/*' 'org/jline/nativ/FreeBSD/*' > /dev/null || true
unzip -q -j -o receptive-cli/target/receptive.jar "lib/$native" -d "$stage/natives"
# Both test trees hold META-INF/jpms.args (the compiler's record of its module flags): merge them
# into one tree first, since a jar may not hold an entry twice.
mkdir "$stage/test-classes"
cp -r receptive-core/target/test-classes/. receptive-cuda/target/test-classes/. "$stage/test-classes"
"$jdk/bin/jar" --create --file "$stage/lib/tests.jar" -C "$stage/test-classes" .
rm -rf "$stage/test-classes"
cp "$junit_jar" "$stage/lib/junit-platform-console-standalone.jar"
cp bench/pytorch/w1_bench.py scripts/pytorch/w1_modes.py "$stage/bench/pytorch/"

# A runtime with the modules the GPU run uses: no java.desktop (training curves are not drawn here);
# java.sql brings java.xml, which the JUnit reports need; jdk.zipfs lets JUnit scan jars. Left
# uncompressed: the payload's gzip compresses it better.
modules=java.base,java.logging,java.sql,java.xml,jdk.zipfs,jdk.unsupported
major=$("$jdk/bin/jlink" --version | cut -d. -f1)
compress=$([ "$major" -ge 21 ] && echo zip-0 || echo 0)
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress="$compress" \
    --output "$stage/jre" 2> "$stage/jlink.log" || { cat "$stage/jlink.log" >&2; exit 1; }
rm -f "$stage/jlink.log"
# The symbol table of libjvm.so is only read by crash reports.
if command -v strip > /dev/null; then
    strip --strip-unneeded "$stage/jre/lib/server/libjvm.so"
fi
glibc=$( (command -v objdump > /dev/null && find "$stage/jre" -name '*.so' -o -path '*/bin/*' -type f | xargs objdump -T 2> /dev/null) \
    | grep -oE 'GLIBC_[0-9.]+' | sort -uV | tail -n 1)
{
    echo "built $(date -u '+%Y-%m-%d %H:%M UTC') from $(git -C "$root" rev-parse --short HEAD 2> /dev/null)$(git -C "$root" diff --quiet 2> /dev/null || echo '+changes')"
    echo "runtime: $("$stage/jre/bin/java" -version 2>&1 | sed -n 2p), modules $modules, needs glibc >= ${glibc#GLIBC_}"
} > "$stage/BUILD-INFO"

rm -rf "${bundle:?}"/*
tar -czf "$bundle/payload.tar.gz" -C "$stage" .
cp "$root/scripts/gpu-bundle-run.sh" "$bundle/run.sh"
chmod +x "$bundle/run.sh"
size=$(cat "$bundle/run.sh" "$bundle/payload.tar.gz" | wc -c)
echo "gpu-bundle.sh: $bundle: run.sh + payload.tar.gz = $size bytes ($((size >> 20)) MiB); $(tail -n 1 "$stage/BUILD-INFO")"
if [ "$size" -gt "$limit" ]; then
    echo "gpu-bundle.sh: the bundle is over its $((limit >> 20)) MiB budget" >&2
    exit 1
fi
