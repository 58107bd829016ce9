#!/usr/bin/env bash
# W1 (or resnet14) on Receptive's CPU backend and on PyTorch's CPU build (through DJL's PyTorch engine), run
# alternately (A B A B ...), one engine per JVM, and the ratio of each pair.
#
#   scripts/bench-vs-pytorch.sh [pairs]        (default 5 pairs per figure)
#
# Figures: training images/s at batch 64 and 256, inference images/s at batch 256, latency of
# one image (batch 1). Each run prints the median of its timed samples; this script prints every
# pair, then the median and the range (min-max) of the runs and of the pair ratios.
# PyTorch's native library comes from the Maven artifact ai.djl.pytorch:pytorch-native-cpu, and
# DJL runs offline. Both engines use the same number of threads: RECEPTIVE_THREADS, else all cores.
# Other load on the machine changes both sides: note it with the results. On a shared machine,
# CLOCK=thread-cpu with RECEPTIVE_THREADS=1 times the calling thread's CPU time instead of wall
# time (each engine then computes on that thread alone), which leaves the other load out.
# Narrower machines: MAX_VECTOR_SIZE=16 (128-bit, NEON/SSE) or 32 (256-bit, AVX2) limits
# Receptive's JVM (-XX:MaxVectorSize), and ATEN_CPU_CAPABILITY=default or avx2 limits PyTorch
# the same way (its own variable, read by the PyTorch JVM only). FIGURES picks the figures,
# "mode batch [network]" each, e.g. FIGURES="train 64,train 256" (default: W1's four) or
# FIGURES="train 128 resnet14" (the zoo's resnet14, same architecture and parameter count on both).
set -euo pipefail
cd "$(dirname "$0")/.."

pairs="${1:-5}"
threads="${RECEPTIVE_THREADS:-$(nproc)}"
clock="${CLOCK:-wall}"
if [ "$clock" = thread-cpu ] && [ "$threads" != 1 ]; then
    echo "bench-vs-pytorch: CLOCK=thread-cpu needs RECEPTIVE_THREADS=1" >&2
    exit 2
fi
java_opts=(--add-modules jdk.incubator.vector -Dreceptive.threads="$threads" -Dai.djl.pytorch.num_threads="$threads"
    -Dai.djl.pytorch.num_interop_threads=1 -Dreceptive.bench.clock="$clock")
receptive_opts=()
[ -n "${MAX_VECTOR_SIZE:-}" ] && receptive_opts=(-XX:MaxVectorSize="$MAX_VECTOR_SIZE")
aten="${ATEN_CPU_CAPABILITY:-}"
unset ATEN_CPU_CAPABILITY

mvn -q -B -P djl -pl receptive-bench-djl -am package dependency:build-classpath \
    -DskipTests -Dmdep.outputFile=target/classpath.txt
cp="$(cat receptive-bench-djl/target/classpath.txt):receptive-bench-djl/target/classes"

run() { # engine mode batch network -> value
    if [ "$1" = receptive ]; then
        java "${java_opts[@]}" "${receptive_opts[@]}" -cp "$cp" dev.receptive.bench.djl.SideBySide "$1" "$2" "$3" "$4" \
            2>/dev/null | sed -n 's/.*value=//p'
    else
        env ${aten:+ATEN_CPU_CAPABILITY="$aten"} java "${java_opts[@]}" -cp "$cp" dev.receptive.bench.djl.SideBySide \
            "$1" "$2" "$3" "$4" 2>/dev/null | sed -n 's/.*value=//p'
    fi
}

stats() { # numbers on stdin -> "median (min-max)"
    sort -g | awk '{v[NR] = $1} END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.2f (%.2f-%.2f)", m, v[1], v[NR]
    }'
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(java -version 2>&1 | head -1)"
echo "threads per engine: $threads; clock: $clock; receptive MaxVectorSize: ${MAX_VECTOR_SIZE:-default};" \
    "pytorch ATEN_CPU_CAPABILITY: ${aten:-default}; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
IFS=, read -r -a figures <<< "${FIGURES:-train 64,train 256,infer 256,latency 1}"
for figure in "${figures[@]}"; do
    read -r mode batch net <<< "$figure"
    net="${net:-w1}"
    unit="images/s"
    [ "$mode" = latency ] && unit="ms"
    r_all=""; p_all=""; ratio_all=""
    for i in $(seq "$pairs"); do
        r=$(run receptive "$mode" "$batch" "$net")
        p=$(run pytorch "$mode" "$batch" "$net")
        if [ -z "$r" ] || [ -z "$p" ]; then
            echo "bench-vs-pytorch: a run of $net $mode $batch gave no figure (rerun it by hand to see why)" >&2
            exit 1
        fi
        # A ratio above 1 means Receptive is faster (for latency: PyTorch's time over ours).
        if [ "$mode" = latency ]; then ratio=$(awk -v a="$p" -v b="$r" 'BEGIN {printf "%.3f", a / b}')
        else ratio=$(awk -v a="$r" -v b="$p" 'BEGIN {printf "%.3f", a / b}'); fi
        echo "  $net $mode batch $batch pair $i: receptive $r, pytorch $p $unit, ratio $ratio (load $(cut -d' ' -f1 /proc/loadavg))"
        r_all+="$r"$'\n'; p_all+="$p"$'\n'; ratio_all+="$ratio"$'\n'
    done
    echo "$net $mode batch $batch ($unit): receptive $(printf '%s' "$r_all" | stats)," \
        "pytorch $(printf '%s' "$p_all" | stats), ratio $(printf '%s' "$ratio_all" | stats)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
