#!/usr/bin/env bash
# run.sh of a bundle made by scripts/gpu-bundle.sh: the whole GPU verification of Receptive in one
# command, on a CUDA host with no JDK and no network.
#
#   run.sh OUT
#
# Writes only under OUT (the bundle folder is never written to; HOME, TMPDIR, java.io.tmpdir and the
# CUDA JIT cache point into OUT while it runs) and leaves exactly two files there:
#   OUT/summary.txt      the results, rewritten after every step (so it exists whatever stops the run)
#   OUT/results.tar.gz   every log: host facts, library check, doctor, JUnit reports, bench, PyTorch, soak
#
# Steps, most important first, each with its own time cap inside an overall budget (RUN_BUDGET
# seconds, default 450), so one hang cannot eat the rest:
#   host      GPU, driver, OS, glibc, the CUDA libraries found and their pip versions
#   libs      retarget the JCublas native where only libcublas.so.13 exists; check every JCuda native
#             against its library before anything loads (symbol versions, called functions)
#   doctor    receptive doctor
#   lockstep  the lock-step and resume tests (seednet and resnet8 on the GPU against the CPU)
#   tests     every other CUDA test class (JUnit), with pass/fail counts per class (not the CPU-only
#             ModelLockStepCheckTest, which CI runs)
#   bench     receptive bench --backend cuda at batch 64, 256 and 1024
#   torch     the same W1 network in PyTorch eager (bench/pytorch/w1_bench.py) on the same GPU
#   soak      2,000 training steps watching device memory (CudaMemorySoak)
#   infer     only when named in RUN_STEPS: seednet and resnet14 inference, 1 thread against 8
#   compare   only when named in RUN_STEPS: Receptive fp32/tf32/bf16 and PyTorch eager/autocast/graph,
#             alternated in rounds, medians and ratios (COMPARE_ROUNDS, COMPARE_ARGS, COMPARE_BATCHES)
#
# Environment: CUDNN_LIB / CUBLAS_LIB, a folder (or file) holding libcudnn.so.9 / libcublas.so.12 or
# .13, override the search; TORCH_VENV (default /opt/torch/.venv) is searched first and runs the
# PyTorch benchmark; RUN_STEPS (comma-separated, default all) and RUN_BUDGET choose what runs;
# BENCH_ARGS sets the bench step's batch sizes and samples.
# Exit status: 0 when every step that ran passed, 1 otherwise, 2 on bad usage.
set -u

if [ $# -ne 1 ]; then
    echo "usage: run.sh OUT   (results go to OUT/summary.txt and OUT/results.tar.gz)" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd) || exit 2
work=$out/work
logs=$work/logs
rm -rf "$work" "$out/summary.txt" "$out/results.tar.gz"
mkdir -p "$logs" "$work/tmp" "$work/home" "$work/natives"
start=$SECONDS
budget=${RUN_BUDGET:-450}
steps=",${RUN_STEPS:-host,libs,doctor,lockstep,tests,bench,torch,soak},"
torch_venv=${TORCH_VENV:-/opt/torch/.venv}
export HOME=$work/home TMPDIR=$work/tmp XDG_CACHE_HOME=$work/home/.cache CUDA_CACHE_PATH=$work/cuda-cache
export PYTHONDONTWRITEBYTECODE=1
# cuDNN writes its own account of any error it returns (level 1: errors only).
export CUDNN_LOGLEVEL_DBG=1 CUDNN_LOGDEST_DBG=$logs/cudnn-errors.log

body=$work/summary.body
: > "$body"
failed=0
say() { echo "$*" >> "$body"; }

write_summary() {
    {
        echo "Receptive GPU run, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(( SECONDS - start )) s so far (budget ${budget} s)"
        [ -f "$work/bundle/BUILD-INFO" ] && sed 's/^/bundle: /' "$work/bundle/BUILD-INFO"
        echo
        cat "$body"
    } > "$out/summary.txt.tmp" && mv -f "$out/summary.txt.tmp" "$out/summary.txt"
}

pack() {
    write_summary
    # Every log stays small enough to come back (cuDNN's error log could grow without bound).
    local f
    for f in "$logs"/*.log; do
        if [ -f "$f" ] && [ "$(wc -c < "$f")" -gt $((4 << 20)) ]; then
            head -c $((2 << 20)) "$f" > "$f.head" && echo "[... cut at 2 MiB by run.sh]" >> "$f.head" && mv -f "$f.head" "$f"
        fi
    done
    tar -czf "$out/results.tar.gz.tmp" -C "$work" logs 2> /dev/null && mv -f "$out/results.tar.gz.tmp" "$out/results.tar.gz"
}

finish() {
    pack
    rm -rf "$work"
}
trap finish EXIT
trap 'say "run.sh: stopped by a signal"; exit 1' INT TERM

# Relative paths (tests look for a source tree) resolve inside OUT, never in the caller's folder.
cd "$work"

# ---- the bundle's payload, unpacked under OUT ---------------------------------------------
mkdir -p "$work/bundle"
if ! tar -xzf "$here/payload.tar.gz" -C "$work/bundle" 2> "$logs/unpack.log"; then
    say "FAIL: cannot unpack $here/payload.tar.gz (see unpack.log)"
    exit 1
fi
bundle=$work/bundle
java=$bundle/jre/bin/java
native=libJCublas2-12.6.0-linux-x86_64.so
if ! "$java" -version > "$logs/java.log" 2>&1; then
    say "FAIL: the bundle's Java runtime does not start here (see java.log; $(ldd --version 2>&1 | head -n 1))."
    say "      Rebuild the bundle with JLINK_JDK pointing at a JDK built for an older glibc (Temurin's)."
    exit 1
fi
java_major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$bundle/jre/release")
# A JVM that crashes in native code writes its report into logs/; no core files.
ulimit -c 0 2> /dev/null
opts=(-Xmx8g -XX:-UsePerfData "-XX:ErrorFile=$logs/hs_err_%p.log" "-Djava.io.tmpdir=$work/tmp" "-Duser.home=$work/home")
if [ "${java_major:-17}" -ge 21 ]; then
    opts+=(--enable-native-access=ALL-UNNAMED)
fi

# ---- where the CUDA libraries are -------------------------------------------------------
roots=()
add_root() { [ -d "$1" ] && roots+=("$1"); }
for v in CUDNN_LIB CUBLAS_LIB; do
    p=${!v:-}
    [ -n "$p" ] && [ -f "$p" ] && p=$(dirname "$p")
    [ -n "$p" ] && add_root "$p"
done
IFS=: read -ra ld_dirs <<< "${LD_LIBRARY_PATH:-}"
for d in "${ld_dirs[@]}"; do [ -n "$d" ] && add_root "$d"; done
sites=()
add_site() {
    local s
    for s in "${sites[@]:-}"; do [ "$s" = "$1" ] && return; done
    [ -d "$1" ] && sites+=("$1")
}
for s in "$torch_venv"/lib/python3*/site-packages "$torch_venv"/lib64/python3*/site-packages; do add_site "$s"; done
# Every python3 there is: on PATH, the usual prefixes, any venv under /opt. Each may have its own packages.
pythons=()
IFS=: read -ra path_dirs <<< "${PATH:-}"
for d in "${path_dirs[@]}" /usr/bin /usr/local/bin /opt/*/bin /opt/*/.venv/bin /opt/conda/bin "$torch_venv/bin"; do
    for py in "$d"/python3 "$d"/python3.[0-9]*; do
        case $py in *-config) continue ;; esac
        case " ${pythons[*]:-} " in *" $py "*) continue ;; esac
        [ -x "$py" ] && pythons+=("$py")
    done
done
for py in "${pythons[@]:-}"; do
    [ -n "$py" ] || continue
    while read -r s; do
        [ -n "$s" ] && add_site "$s"
    done < <(timeout 15 "$py" -c 'import site; print("\n".join(site.getsitepackages() + [site.getusersitepackages()]))' 2> /dev/null)
    for s in "$(dirname "$py")"/../lib/python3*/site-packages; do add_site "$(cd "$s" 2> /dev/null && pwd)"; done
done
for s in "${sites[@]:-}"; do
    [ -n "$s" ] || continue
    add_root "$s/nvidia"
    add_root "$s/torch/lib"
done
for d in /usr/local/cuda*/lib64 /usr/local/cuda*/targets/x86_64-linux/lib /usr/local/nvidia/lib64 \
    /usr/lib/x86_64-linux-gnu /usr/lib64 /opt/conda/lib; do add_root "$d"; done

# The first file named $2 under $1 (at most three folders down).
find_in() { find -L "$1" -maxdepth 3 -name "$2" \( -type f -o -type l \) -print -quit 2> /dev/null; }
# The first of the names $@ found, searching root by root (so libraries come from one place when they can).
find_lib() {
    local r n f
    for r in "${roots[@]:-}"; do
        [ -n "$r" ] || continue
        for n in "$@"; do
            f=$(find_in "$r" "$n")
            if [ -n "$f" ]; then
                echo "$f"
                return 0
            fi
        done
    done
    return 1
}

lib_dirs=()
add_lib_dir() {
    local d
    for d in "${lib_dirs[@]:-}"; do [ "$d" = "$1" ] && return; done
    lib_dirs+=("$1")
}
if [ -n "${CUDNN_LIB:-}" ]; then
    cudnn=$(find_in "$( [ -f "$CUDNN_LIB" ] && dirname "$CUDNN_LIB" || echo "$CUDNN_LIB")" libcudnn.so.9)
else
    cudnn=$(find_lib libcudnn.so.9)
fi
if [ -n "${CUBLAS_LIB:-}" ]; then
    d=$( [ -f "$CUBLAS_LIB" ] && dirname "$CUBLAS_LIB" || echo "$CUBLAS_LIB")
    cublas=$(find_in "$d" libcublas.so.12)
    [ -n "$cublas" ] || cublas=$(find_in "$d" libcublas.so.13)
else
    cublas=$(find_lib libcublas.so.12 libcublas.so.13)
fi
say "libraries:"
if [ -n "${cudnn:-}" ]; then
    add_lib_dir "$(dirname "$cudnn")"
    say "  libcudnn.so.9 in $(dirname "$cudnn")"
else
    say "  libcudnn.so.9 NOT FOUND (searched: ${roots[*]:-nothing}); set CUDNN_LIB"
fi
if [ -n "${cublas:-}" ]; then
    add_lib_dir "$(dirname "$cublas")"
    say "  $(basename "$cublas") in $(dirname "$cublas")"
else
    say "  libcublas.so.12 / .13 NOT FOUND (searched: ${roots[*]:-nothing}); set CUBLAS_LIB"
fi
# What cuDNN and cuBLAS load themselves, for either CUDA major: put their folders on the path too.
for n in libcublasLt.so.13 libcublasLt.so.12 libnvrtc.so.13 libnvrtc.so.12 libnvJitLink.so.13 libnvJitLink.so.12; do
    f=$(find_lib "$n") && add_lib_dir "$(dirname "$f")"
done
if [ "${#lib_dirs[@]}" -gt 0 ]; then
    LD_LIBRARY_PATH=$(IFS=:; echo "${lib_dirs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
fi
say "  LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
say "  site-packages searched: ${sites[*]:-none}"
write_summary

# ---- steps -------------------------------------------------------------------------------
say ""
say "$(printf '%-9s %-12s %5s  %s' step status seconds result)"

# run_step NAME CAP COMMAND...: runs the command with its output in logs/NAME.log, within CAP seconds
# and what is left of the budget (20 s are kept for packing). Sets $rc.
run_step() {
    local name=$1 cap=$2 left t status
    shift 2
    rc=0
    selected "$name" || return 1
    left=$(( budget - (SECONDS - start) - 20 ))
    if [ "$left" -lt 10 ]; then
        say "$(printf '%-9s %-12s %5s  %s' "$name" skipped - "no time left in the ${budget} s budget")"
        failed=1
        rc=125
        return 1
    fi
    [ "$cap" -gt "$left" ] && cap=$left
    t=$SECONDS
    timeout -k 10 "$cap" "$@" > "$logs/$name.log" 2>&1
    rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        status="TIMEOUT(${cap}s)"
    elif [ "$rc" -eq 0 ]; then
        status=ok
    else
        status="FAIL(rc=$rc)"
    fi
    [ "$rc" -eq 0 ] || failed=1
    step_line="$(printf '%-9s %-12s %5s' "$name" "$status" $(( SECONDS - t )))"
    return 0
}

# Per-class counts from a JUnit XML report: "class passed failed skipped".
junit_counts() {
    awk '
        /<testcase / {
            match($0, /classname="[^"]*"/); cls = substr($0, RSTART + 11, RLENGTH - 12); st = "pass"
            if ($0 ~ /\/>[[:space:]]*$/) { n[cls]++; p[cls]++; cls = ""; next }
        }
        cls != "" && /^[[:space:]]*<skipped/ { st = "skip" }
        cls != "" && /^[[:space:]]*<(failure|error)/ { st = "fail" }
        cls != "" && /<\/testcase>/ { n[cls]++; if (st == "pass") p[cls]++; else if (st == "skip") s[cls]++; else f[cls]++; cls = "" }
        END { for (c in n) printf "%s %d %d %d\n", c, p[c] + 0, f[c] + 0, s[c] + 0 }
    ' "$@" 2> /dev/null | sort
}

# junit NAME CAP SELECTORS...: runs the JUnit console launcher, then summarizes per class.
junit() {
    local name=$1 cap=$2 skipped
    shift 2
    run_step "$name" "$cap" "$java" "${opts[@]}" "${jlp[@]}" -jar "$bundle/lib/junit-platform-console-standalone.jar" \
        execute --disable-banner --disable-ansi-colors --details=tree \
        --class-path "$bundle/lib/tests.jar:$bundle/lib/receptive.jar" --reports-dir "$logs/junit-$name" "$@" || return
    local totals
    totals=$(junit_counts "$logs/junit-$name"/*.xml | awk '{p += $2; f += $3; s += $4} END {printf "%d passed, %d failed, %d skipped", p, f, s}')
    # A CUDA test that skipped itself (no usable GPU) is not a pass.
    skipped=$(grep -c "Assumption failed: no usable CUDA GPU" "$logs/$name.log")
    if [ "$skipped" -gt 0 ]; then
        failed=1
        totals="$totals; $skipped CUDA tests SKIPPED THEMSELVES: CUDA did not work (see doctor)"
        step_line="$(printf '%-9s %-12s %5s' "$name" NO-GPU "$(echo "$step_line" | awk '{print $3}')")"
    fi
    say "$step_line  $totals"
    junit_counts "$logs/junit-$name"/*.xml | while read -r cls p f s; do
        say "$(printf '            %-58s %3d passed %3d failed %3d skipped' "${cls#dev.receptive.backend.}" "$p" "$f" "$s")"
    done
    grep -E "^\s*(=> |Caused by|org.opentest4j|java\.lang\.\w+(Error|Exception))" "$logs/$name.log" | head -n 12 | sed 's/^/            | /' >> "$body"
    if ! ls "$logs/junit-$name"/*.xml > /dev/null 2>&1; then
        # No report: the JVM died (a native crash, the loader) or was stopped. Its last words:
        tail -n 6 "$logs/$name.log" | cut -c1-300 | sed 's/^/            | /' >> "$body"
    fi
}

# host: facts about the machine and what was found.
host_facts() {
    echo "date: $(date -u)"
    echo "uname: $(uname -a)"
    echo "os: $(. /etc/os-release 2> /dev/null && echo "${PRETTY_NAME:-?}")"
    echo "glibc: $(ldd --version 2>&1 | head -n 1)"
    echo "cpus: $(nproc 2> /dev/null); memory: $(free -g 2> /dev/null | awk '/Mem:/ {print $2 " GiB"}')"
    echo "java (bundle): $(head -n 1 "$logs/java.log")"
    echo "driver: $(head -n 1 /proc/driver/nvidia/version 2> /dev/null || echo 'no /proc/driver/nvidia/version')"
    if command -v nvidia-smi > /dev/null; then
        timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,pstate --format=csv,noheader \
            | sed 's/^/gpu: /'
        timeout 20 nvidia-smi
    else
        echo "gpu: nvidia-smi not found"
    fi
    echo "pythons: ${pythons[*]:-none}"
    local s
    for s in "${sites[@]:-}"; do
        [ -n "$s" ] || continue
        ls -d "$s"/nvidia_*.dist-info "$s"/torch-*.dist-info 2> /dev/null | sed "s|^$s/|packages in $s: |"
    done
    for f in ${cudnn:-} ${cublas:-}; do
        echo "file: $(ls -lL "$f")"
    done
    echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
}
selected() { case $steps in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
jlp=()
if selected host; then
    t=$SECONDS
    host_facts > "$logs/host.txt" 2>&1 # each command in it has its own time limit
    step_line="$(printf '%-9s %-12s %5s' host ok $(( SECONDS - t )))"
    gpu=$(sed -n 's/^gpu: //p' "$logs/host.txt" | head -n 1)
    say "$step_line  ${gpu:-no GPU listed}; $(sed -n 's/^os: //p' "$logs/host.txt"); $(sed -n 's/^glibc: //p' "$logs/host.txt")"
    for f in ${cudnn:-} ${cublas:-}; do
        # .../site-packages/nvidia/<package>/lib/<file>: the pip package's version is in its dist-info.
        d=$(dirname "$(dirname "$(dirname "$(dirname "$f")")")")
        kind=$(basename "$f" | sed -E 's/^lib([a-z]+).*/\1/')
        pkgs=$(ls -d "$d"/nvidia_*.dist-info 2> /dev/null | xargs -r -n1 basename | grep -i "$kind" \
            | sed 's/\.dist-info$//' | sort -u | tr '\n' ' ')
        [ -n "$pkgs" ] && say "            $(basename "$f"): $pkgs"
    done
    pack
fi

# libs: retarget where needed, then check the natives against the libraries before any loads.
if selected libs; then
    if [ -n "${cublas:-}" ] && [ "$(basename "$cublas")" = libcublas.so.13 ]; then
        "$java" "${opts[@]}" -cp "$bundle/lib/receptive.jar" dev.receptive.backend.cuda.internal.ElfNeededRetarget \
            "$bundle/natives/$native" "$work/natives/$native" libcublas.so.12 "$cublas" > "$logs/retarget.log" 2>&1
        if [ $? -eq 0 ]; then
            jlp=("-Djava.library.path=$work/natives")
            say "retarget  $(cat "$logs/retarget.log")"
        else
            say "retarget  FAIL: $(tail -n 1 "$logs/retarget.log")"
            failed=1
        fi
    fi
    if run_step libs 60 "$java" "${opts[@]}" "${jlp[@]}" -cp "$bundle/lib/receptive.jar" \
        dev.receptive.backend.cuda.internal.NativeLibraryCheck; then
        say "$step_line  $( [ "$rc" -eq 0 ] && echo "no mismatch between the natives and the libraries found" || echo "PROBLEMS below")"
        sed 's/^/            /' "$logs/libs.log" >> "$body"
    fi
    pack
else
    # Without the libs step the retarget still has to happen for the later steps.
    if [ -n "${cublas:-}" ] && [ "$(basename "$cublas")" = libcublas.so.13 ] \
        && "$java" "${opts[@]}" -cp "$bundle/lib/receptive.jar" dev.receptive.backend.cuda.internal.ElfNeededRetarget \
            "$bundle/natives/$native" "$work/natives/$native" libcublas.so.12 "$cublas" > "$logs/retarget.log" 2>&1; then
        jlp=("-Djava.library.path=$work/natives")
    fi
fi

if run_step doctor 60 "$java" "${opts[@]}" "${jlp[@]}" -jar "$bundle/lib/receptive.jar" doctor; then
    say "$step_line  $(grep -E "works:|cannot be used" "$logs/doctor.log" | head -n 1)"
    grep -E "^(GPU 0|CUDA driver|cuDNN|cuBLAS|lib[a-z]+\.so[.0-9]*):|^  - " "$logs/doctor.log" | sed 's/^/            /' >> "$body"
    pack
fi

junit lockstep 150 --select-class dev.receptive.backend.cuda.CudaModelLockStepTest \
    --select-class dev.receptive.backend.cuda.CudaResumeTest --select-class dev.receptive.backend.cuda.CudaAccumulationTest
pack
junit tests 240 --select-package dev.receptive.backend.cuda \
    --exclude-classname '.*\.(CudaModelLockStepTest|CudaResumeTest|CudaAccumulationTest|ModelLockStepCheckTest)'
pack

# compare (not in the default steps; RUN_STEPS=...,compare): Receptive's bench at --precision fp32,
# tf32 and bf16, then PyTorch's eager fp32, autocast bf16 and CUDA-graph modes (w1_modes.py), in
# COMPARE_ROUNDS rounds (default 3) that alternate A and B on the same GPU; the summary gives the
# median of the rounds per engine, mode and batch, and the ratios the issue asks for.
torch_python=${TORCH_PYTHON:-$torch_venv/bin/python3}
if selected compare; then
    read -r -a compare_args <<< "${COMPARE_ARGS:---batch 64 --train-batches 256,1024 --samples 3}"
    compare_batches=${COMPARE_BATCHES:-64,256,1024}
    runs=$logs/compare-runs.txt
    : > "$runs"
    ct=$SECONDS
    cstatus=ok
    for r in $(seq 1 "${COMPARE_ROUNDS:-3}"); do
        for p in fp32 tf32 bf16; do
            run_step compare 150 "$java" "${opts[@]}" "${jlp[@]}" -jar "$bundle/lib/receptive.jar" bench --backend cuda \
                --precision "$p" "${compare_args[@]}" || break 2
            [ "$rc" -eq 0 ] || cstatus="FAIL(receptive $p round $r rc=$rc)"
            grep -E '^W1 train batch' "$logs/compare.log" \
                | sed -E "s/^W1 train batch +([0-9]+): +([0-9.]+) images\/s.*/receptive $p \1 \2 $r/" >> "$runs"
            { echo "==== round $r: receptive --precision $p (rc=$rc)"; cat "$logs/compare.log"; } >> "$logs/compare-all.log"
        done
        if [ -x "$torch_python" ]; then
            run_step compare 150 "$torch_python" "$bundle/bench/pytorch/w1_modes.py" --batches "$compare_batches" \
                --samples 3 || break
            [ "$rc" -eq 0 ] || cstatus="FAIL(torch round $r rc=$rc)"
            grep -E '^torch [a-z]+ batch +[0-9]+: +[0-9.]+ images' "$logs/compare.log" \
                | sed -E "s/^torch ([a-z]+) batch +([0-9]+): +([0-9.]+) images\/s.*/torch \1 \2 \3 $r/" >> "$runs"
            { echo "==== round $r: torch (rc=$rc)"; cat "$logs/compare.log"; } >> "$logs/compare-all.log"
        fi
    done
    rm -f "$logs/compare.log"
    say "$(printf '%-9s %-12s %5s' compare "$cstatus" $(( SECONDS - ct )))  W1 training images/s, median of $(awk '{print $5}' "$runs" | sort -u | wc -l) alternated rounds (batch ${compare_batches//,/ \/ })"
    awk -v batches="$compare_batches" '
        function median(list,    v, n, i, j, t) {
            n = split(list, v, " ")
            for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
            return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        }
        { key = $1 " " $2; vals[key, $3] = vals[key, $3] " " ($4 + 0); seen[key] = 1 }
        END {
            nb = split(batches, b, ",")
            split("receptive fp32,receptive tf32,receptive bf16,torch eager,torch autocast,torch graph", order, ",")
            for (k = 1; k <= 6; k++) {
                if (!(order[k] in seen)) continue
                line = sprintf("            %-16s", order[k])
                for (i = 1; i <= nb; i++) {
                    m[order[k], b[i]] = ((order[k], b[i]) in vals) ? median(vals[order[k], b[i]]) : 0
                    line = line sprintf(" %11.1f", m[order[k], b[i]])
                }
                print line
            }
            split("receptive fp32/torch eager,receptive tf32/torch eager,receptive bf16/torch autocast,receptive fp32/torch graph", ratios, ",")
            for (k = 1; k <= 4; k++) {
                split(ratios[k], ab, "/")
                line = sprintf("            %-34s", ratios[k])
                ok = 0
                for (i = 1; i <= nb; i++) {
                    if (m[ab[1], b[i]] > 0 && m[ab[2], b[i]] > 0) { line = line sprintf(" %5.2fx", m[ab[1], b[i]] / m[ab[2], b[i]]); ok = 1 }
                    else line = line "     -"
                }
                if (ok) print line
            }
        }' "$runs" >> "$body"
    grep -E '^torch [a-z]+ batch +[0-9]+: not run' "$logs/compare-all.log" 2> /dev/null | sort -u | head -n 6 \
        | cut -c1-300 | sed 's/^/            | /' >> "$body"
    pack
fi

# infer (not in the default steps; RUN_STEPS=...,infer): seednet and resnet14 predictions at batch 1,
# 16 and 256, one thread against INFER_THREADS (8) on one model, alternated, medians (InferenceBench).
if run_step infer 150 "$java" "${opts[@]}" "${jlp[@]}" -cp "$bundle/lib/tests.jar:$bundle/lib/receptive.jar" \
    dev.receptive.backend.cuda.InferenceBench cuda "${INFER_THREADS:-8}" 0.5 3; then
    say "$step_line  images/s, 1 thread against ${INFER_THREADS:-8} on one model, median of 3 alternated samples"
    grep -E '^infer ' "$logs/infer.log" | sed 's/^infer /            /' >> "$body"
    [ "$rc" -eq 0 ] || tail -n 3 "$logs/infer.log" | cut -c1-400 | sed 's/^/            | /' >> "$body"
    pack
fi

# BENCH_ARGS replaces the batch sizes and samples, e.g. "--batch 1024 --train-batches 1024 --samples 3"
# for the op timings at a large batch.
read -r -a bench_args <<< "${BENCH_ARGS:---batch 64 --train-batches 256,1024 --samples 5}"
if run_step bench 120 "$java" "${opts[@]}" "${jlp[@]}" -jar "$bundle/lib/receptive.jar" bench --backend cuda \
    "${bench_args[@]}"; then
    say "$step_line  $(grep -E '^W1 train batch' "$logs/bench.log" | sed -E 's/^W1 train batch +([0-9]+): +([0-9.]+) images\/s.*/\1: \2/' | paste -sd ';' - | sed 's/;/;  /g') images/s"
    grep -E "^backend:|^(conv|dense)" "$logs/bench.log" | sed 's/^/            /' >> "$body"
    [ "$rc" -eq 0 ] || tail -n 3 "$logs/bench.log" | cut -c1-400 | sed 's/^/            | /' >> "$body"
    pack
fi

if [ ! -x "$torch_python" ]; then
    selected torch && say "$(printf '%-9s %-12s %5s  %s' torch skipped - "no $torch_python (set TORCH_PYTHON)")"
elif run_step torch 150 "$torch_python" "$bundle/bench/pytorch/w1_bench.py" --batches 64,256,1024 --samples 5; then
    say "$step_line  $(grep -E '^W1 train batch' "$logs/torch.log" | sed -E 's/^W1 train batch +([0-9]+): +([0-9.]+) images\/s.*/\1: \2/' | paste -sd ';' - | sed 's/;/;  /g') images/s (PyTorch eager)"
    grep -E "^(device|fp32)" "$logs/torch.log" | sed 's/^/            /' >> "$body"
    [ "$rc" -eq 0 ] || tail -n 3 "$logs/torch.log" | sed 's/^/            | /' >> "$body"
    pack
fi

if run_step soak 120 "$java" "${opts[@]}" "${jlp[@]}" -cp "$bundle/lib/tests.jar:$bundle/lib/receptive.jar" \
    dev.receptive.backend.cuda.CudaMemorySoak 2000 "$logs/soak.csv"; then
    say "$step_line  $(grep -E '^soak: (PASS|FAIL|CUDA)' "$logs/soak.log" | tail -n 1 | sed 's/^soak: //' | cut -c1-300)"
    grep -E '^soak: [0-9]+ steps' "$logs/soak.log" | sed 's/^/            /' >> "$body"
    [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || tail -n 3 "$logs/soak.log" | cut -c1-400 | sed 's/^/            | /' >> "$body"
fi

say ""
say "overall: $( [ "$failed" -eq 0 ] && echo PASS || echo FAIL ) after $(( SECONDS - start )) s; logs in results.tar.gz (logs/)"
exit "$failed"
