#!/usr/bin/env bash
# run.sh of a bundle made by scripts/gpu-bundle.sh: runs Receptive's GPU checks on a CUDA host
# with no JDK and no network.
#
#   run.sh [OUTPUT_DIR]      logs (run.log, doctor.log, tests.log, junit/, bench.log) go to OUTPUT_DIR
#
# 1. Finds the folders of libcudnn.so.9 and libcublas.so.12 (or .13): LD_LIBRARY_PATH, the pip
#    packages of any python3 (site-packages/nvidia/*/lib, torch/lib), /usr/local/cuda*, the
#    system library folders; and puts them on LD_LIBRARY_PATH.
# 2. Where only CUDA 13's libcublas.so.13 exists, retargets the JCublas native (built for
#    libcublas.so.12) to it with ElfNeededRetarget and puts it first on java.library.path under
#    its original name (see docs/design.md, "The GPU stack").
# 3. Runs `doctor`, the CUDA test classes (JUnit console launcher) and `bench --backend cuda`.
# Exit status: that of the tests; 3 when they passed only because the CUDA tests skipped themselves
# (JUnit counts a failed assumption as "aborted" and still exits 0).
set -u

here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-$here/logs}" && cd "${1:-$here/logs}" && pwd)
java=$here/jre/bin/java
native=libJCublas2-12.6.0-linux-x86_64.so
: > "$out/run.log"
say() { echo "run.sh: $*" | tee -a "$out/run.log"; }

# ---- 1. library folders -----------------------------------------------------------------
roots=()
IFS=: read -ra ld <<< "${LD_LIBRARY_PATH:-}"
roots+=("${ld[@]}")
if command -v python3 > /dev/null 2>&1; then
    while read -r sp; do
        roots+=("$sp/nvidia" "$sp/torch/lib")
    done < <(python3 -c 'import site; print("\n".join(site.getsitepackages() + [site.getusersitepackages()]))' 2> /dev/null)
fi
roots+=(/usr/local/nvidia/lib64 /usr/local/cuda/lib64 /usr/local/cuda-*/lib64 /usr/local/cuda-*/targets/*/lib
    /usr/lib/x86_64-linux-gnu /usr/lib64 /opt/conda/lib)

# The first folder under the roots that holds a file named $1.
find_dir() {
    local r f
    for r in "${roots[@]}"; do
        [ -d "$r" ] || continue
        f=$(find -L "$r" -maxdepth 3 -name "$1" -print -quit 2> /dev/null)
        if [ -n "$f" ]; then
            dirname "$f"
            return 0
        fi
    done
    return 1
}

dirs=()
add_dir() {
    local d
    for d in "${dirs[@]:-}"; do
        [ "$d" = "$1" ] && return
    done
    dirs+=("$1")
}

for lib in libcuda.so.1 libcudnn.so.9 libnvrtc.so.12 libnvrtc.so.13; do
    if d=$(find_dir "$lib"); then
        say "$lib in $d"
        add_dir "$d"
    fi
done
jlp=()
if d=$(find_dir libcublas.so.12); then
    say "libcublas.so.12 in $d"
    add_dir "$d"
elif d=$(find_dir libcublas.so.13); then
    say "libcublas.so.13 in $d (no libcublas.so.12): retargeting the JCublas native to it"
    add_dir "$d"
    mkdir -p "$out/natives"
    "$java" -cp "$here/receptive.jar" dev.receptive.backend.cuda.ElfNeededRetarget "$here/natives/$native" \
        "$out/natives/$native" libcublas.so.12 libcublas.so.13 2>&1 | tee -a "$out/run.log"
    jlp=("-Djava.library.path=$out/natives")
else
    say "no libcublas.so.12 or libcublas.so.13 found: the CUDA tests will skip (see doctor.log)"
fi
if [ "${#dirs[@]}" -gt 0 ]; then
    LD_LIBRARY_PATH=$(IFS=:; echo "${dirs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
fi
say "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
opts=(-Xmx8g "${jlp[@]}")

# ---- 3. doctor, tests, bench ------------------------------------------------------------
cd "$here"
say "doctor"
"$java" "${opts[@]}" -cp "$here/receptive.jar" dev.receptive.cli.Main doctor > "$out/doctor.log" 2>&1
doctor=$?
say "doctor exit $doctor ($(grep -c . "$out/doctor.log") lines in doctor.log)"
cat "$out/doctor.log" | tee -a "$out/run.log"

say "GPU tests"
# Every CUDA test class is in dev.receptive.backend.cuda; a --select-class of a class that does not
# exist makes the launcher abort (exit 255) without running anything.
"$java" "${opts[@]}" -jar "$here/junit-platform-console-standalone.jar" execute --disable-banner \
    --disable-ansi-colors \
    --class-path "$here/test-classes:$here/receptive.jar" \
    --select-package dev.receptive.backend.cuda \
    --select-class dev.receptive.backend.BackendsTest \
    --select-class dev.receptive.cli.DoctorCommandTest \
    --details=tree --reports-dir "$out/junit" > "$out/tests.log" 2>&1
tests=$?
grep -E "tests (found|successful|failed|skipped|aborted)" "$out/tests.log" | tee -a "$out/run.log"
# The CUDA tests skip themselves (CudaTestSupport's assumption) where CUDA does not work.
skipped=$(grep -c "Assumption failed: no usable CUDA GPU" "$out/tests.log")
if [ "$skipped" -gt 0 ]; then
    if [ "$doctor" -eq 0 ]; then
        say "FAIL: doctor says CUDA works, yet $skipped CUDA tests skipped themselves (see tests.log)"
    else
        say "FAIL: CUDA does not work here (doctor exit $doctor, see doctor.log): $skipped CUDA tests skipped, none ran on the GPU"
    fi
    [ "$tests" -ne 0 ] || tests=3
fi
say "tests exit $tests"

say "bench --backend cuda"
"$java" "${opts[@]}" -jar "$here/receptive.jar" bench --backend cuda > "$out/bench.log" 2>&1
say "bench exit $?"
tail -n 20 "$out/bench.log" | tee -a "$out/run.log"
exit "$tests"
