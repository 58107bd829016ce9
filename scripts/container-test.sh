#!/usr/bin/env bash
# Builds both container images and smoke-tests them, without any registry:
#   1. installs podman, runc and debootstrap with apt when they are missing (needs root);
#   2. makes local base images: Debian bookworm (debootstrap from the mirror apt uses), a JDK 17
#      with Maven on it, and a Java 17 runtime laid out like Temurin's (/opt/java/openjdk);
#   3. builds Dockerfile (CPU) and Dockerfile.cuda with those bases as build arguments; the CUDA
#      image's base is plain Debian, so it has everything but NVIDIA's libraries;
#   4. in the CPU image: the health check passes, one epoch of training on the Fashion-MNIST
#      fixtures (mounted read-only, no network, a non-root user) reaches a sane accuracy, and
#      `predict` classifies the trouser images of test-data/image-folder; the image's default
#      command, `serve`, answers an image prediction over HTTP and stops on SIGTERM;
#   5. in the CUDA image: the Java runtime is the copied one, `doctor` names each missing CUDA
#      library (driver, cuBLAS 12, cuDNN 9) with its remedy, and the health check fails.
# Containers, the images built and the build layers go on every exit; the base images and the
# Maven repository stay as a cache (about 500 MB; `--purge` removes them and exits).
#
# Usage: scripts/container-test.sh [--purge]
# Environment: RECEPTIVE_CONTAINER_STORE (the cache, default /var/tmp/receptive-container-test),
# DEBIAN_MIRROR (default: the Debian mirror apt uses).
set -euo pipefail
cd "$(dirname "$0")/.."

STORE="${RECEPTIVE_CONTAINER_STORE:-/var/tmp/receptive-container-test}"
RUNROOT="/run/receptive-container-test"
TAG="localhost/receptive-test/app-$$"
CPU_IMAGE="$TAG:cpu"
CUDA_IMAGE="$TAG:cuda"
START=$SECONDS
PHASE_START=$SECONDS
TIMES=()

log() { printf '[container-test %4ds] %s\n' $((SECONDS - START)) "$*" >&2; }
die() {
    log "FAILED: $*"
    exit 1
}
# Ends the current phase: its seconds go to the summary.
phase() {
    TIMES+=("$(printf '%-44s %4ds' "$1" $((SECONDS - PHASE_START)))")
    PHASE_START=$SECONDS
}

[ "$(id -u)" = 0 ] || die "needs root (podman builds and runs as root here; apt installs what is missing)"

# The script's own storage: its images, layers and containers never mix with the host's, and
# cleaning up cannot touch anything else.
# (TMPDIR: where build cache mounts, the Maven repository among them, live)
PM=(env TMPDIR="$STORE/tmp" podman --root "$STORE/storage" --runroot "$RUNROOT" --runtime runc)
pm() { "${PM[@]}" "$@"; }

if [ "${1:-}" = "--purge" ]; then
    if command -v podman >/dev/null; then
        pm system reset --force >/dev/null 2>&1 || true
    fi
    rm -rf "$STORE" "$RUNROOT"
    log "removed the cache $STORE"
    exit 0
fi
[ $# -eq 0 ] || die "unknown argument '$1' (usage: scripts/container-test.sh [--purge])"

# ---- tools ----------------------------------------------------------------------------------
missing=()
for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    log "installing ${missing[*]} with apt"
    export DEBIAN_FRONTEND=noninteractive
    # podman's recommended crun is left out: it refuses some kernels' mixed cgroup setups; runc works.
    if ! timeout 600 apt-get install -y -q --no-install-recommends podman runc debootstrap debian-archive-keyring \
        >"${TMPDIR:-/tmp}/container-test-apt.log" 2>&1; then
        timeout 300 apt-get update -q >>"${TMPDIR:-/tmp}/container-test-apt.log" 2>&1 || true
        timeout 600 apt-get install -y -q --no-install-recommends podman runc debootstrap debian-archive-keyring \
            >>"${TMPDIR:-/tmp}/container-test-apt.log" 2>&1 \
            || die "apt-get could not install podman, runc and debootstrap; see ${TMPDIR:-/tmp}/container-test-apt.log"
    fi
fi
phase "tools"

mkdir -p "$STORE/tmp"

# Podman asks for more open files and processes than such a machine may allow; ask for what it has.
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
LIMITS=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=4096:4096")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/container-test.XXXXXX")
cleanup() {
    local code=$?
    trap - EXIT INT TERM
    local names
    names=$(pm ps -a --format '{{.Names}}' 2>/dev/null | grep -F "${TAG##*/}-" || true)
    for name in $names; do
        timeout 60 "${PM[@]}" rm -f -t 0 "$name" >/dev/null 2>&1 || true
    done
    timeout 120 "${PM[@]}" rmi -f "$CPU_IMAGE" "$CUDA_IMAGE" >/dev/null 2>&1 || true
    # The layers of the builds above; the tagged base images are kept.
    timeout 120 "${PM[@]}" image prune -f >/dev/null 2>&1 || true
    rm -rf "$WORK"
    if [ $code -ne 0 ]; then
        log "cleaned up after the failure above (exit $code)"
    fi
    exit $code
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- base images ----------------------------------------------------------------------------
# Each base is tagged with a hash of its recipe, so a changed recipe builds a new one.
recipe_tag() { printf '%s' "$*" | sha256sum | cut -c1-12; }
has_image() { pm image exists "$1"; }

if [ -z "${DEBIAN_MIRROR:-}" ] && command -v apt-get >/dev/null; then
    DEBIAN_MIRROR=$(apt-get indextargets --format '$(ORIGIN) $(CODENAME) $(RELEASE) $(REPO_URI)' 2>/dev/null \
        | awk '$1 == "Debian" && $2 == $3 && $4 ~ /^https?:/ { print $4; exit }')
fi
[ -n "${DEBIAN_MIRROR:-}" ] || die "no Debian mirror: apt has none configured; set DEBIAN_MIRROR to one"

DEBIAN="localhost/receptive-test/debian:bookworm-$(recipe_tag "minbase bookworm $DEBIAN_MIRROR, apt caches removed")"
if ! has_image "$DEBIAN"; then
    log "making the Debian base with debootstrap from $DEBIAN_MIRROR"
    rootfs="$WORK/rootfs"
    timeout 1200 debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
    rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | pm import --change 'CMD ["/bin/bash"]' - "$DEBIAN" >/dev/null 2>"$WORK/import.log" \
        || { cat "$WORK/import.log" >&2; die "podman import of the Debian base failed"; }
    rm -rf "$rootfs"
fi
phase "Debian base (debootstrap)"

build_base() { # image recipe: builds the Containerfile text `recipe` as `image` unless it exists
    local image=$1 recipe=$2
    has_image "$image" && return 0
    log "building the base $image"
    mkdir -p "$WORK/base"
    printf '%s\n' "$recipe" >"$WORK/base/Containerfile"
    timeout 1200 "${PM[@]}" build --pull=never --network host --format docker "${LIMITS[@]}" -t "$image" \
        -f "$WORK/base/Containerfile" "$WORK/base" >"$WORK/base.log" 2>&1 \
        || { tail -30 "$WORK/base.log" >&2; die "building the base $image failed"; }
}
# Like Temurin's JRE image: a runtime in /opt/java/openjdk, first on the PATH. Debian's own
# points into /etc through symbolic links; the copy follows them (so the CUDA image can copy it
# again), and Debian's folder becomes a link to it, so the image holds one runtime.
JRE_RECIPE="FROM $DEBIAN
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
    openjdk-17-jre-headless && apt-get clean && rm -rf /var/lib/apt/lists/* \\
    && home=\"\$(dirname \"\$(dirname \"\$(readlink -f /usr/bin/java)\")\")\" && mkdir -p /opt/java \\
    && cp -rL \"\$home\" /opt/java/openjdk && rm -rf \"\$home\" && ln -s /opt/java/openjdk \"\$home\"
ENV JAVA_HOME=/opt/java/openjdk PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
JRE="localhost/receptive-test/jre:17-$(recipe_tag "$JRE_RECIPE")"
build_base "$JRE" "$JRE_RECIPE"
phase "Java runtime base"

# The JDK and Maven on top of the runtime base, which apt then need not fetch again.
JDK_RECIPE="FROM $JRE
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
    openjdk-17-jdk-headless maven && apt-get clean && rm -rf /var/lib/apt/lists/*"
JDK="localhost/receptive-test/jdk:17-$(recipe_tag "$JDK_RECIPE")"
build_base "$JDK" "$JDK_RECIPE"
phase "JDK + Maven base"
# Bases of older recipes or mirrors go.
for old in $(pm images --format '{{.Repository}}:{{.Tag}}' | grep -E '^localhost/receptive-test/(debian|jre|jdk):' \
    | grep -v -x -F -e "$DEBIAN" -e "$JRE" -e "$JDK" || true); do
    pm rmi "$old" >/dev/null 2>&1 || true
done

# ---- the images -----------------------------------------------------------------------------
BUILD=(build --pull=never --network host --format docker --layers "${LIMITS[@]}")
# The Maven build trusts what this host's Java trusts: a network that re-signs HTTPS is trusted
# here already (the host's own Maven build came through it).
host_java_home=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.home = //p' || true)
if [ -n "$host_java_home" ] && [ -f "$host_java_home/lib/security/cacerts" ]; then
    BUILD+=(--secret "id=truststore,src=$host_java_home/lib/security/cacerts")
fi

build_image() { # image dockerfile build-args...
    local image=$1 file=$2
    shift 2
    local args=()
    for a in "$@"; do args+=(--build-arg "$a"); done
    log "building $file as $image"
    timeout 1800 "${PM[@]}" "${BUILD[@]}" "${args[@]}" -f "$file" -t "$image" . >"$WORK/build.log" 2>&1 \
        || { tail -40 "$WORK/build.log" >&2; die "building $file failed"; }
}
build_image "$CPU_IMAGE" Dockerfile "BUILD_IMAGE=$JDK" "RUNTIME_IMAGE=$JRE"
phase "CPU image (Dockerfile)"
build_image "$CUDA_IMAGE" Dockerfile.cuda "BUILD_IMAGE=$JDK" "JRE_IMAGE=$JRE" "CUDA_IMAGE=$DEBIAN"
phase "CUDA image (Dockerfile.cuda), Debian for CUDA"

# ---- smoke tests ----------------------------------------------------------------------------
in_container() { # seconds image args...: runs a named, networkless container that cleanup can find
    local seconds=$1
    shift
    timeout --kill-after=30 "$seconds" "${PM[@]}" run --rm --name "${TAG##*/}-run-$RANDOM$RANDOM" --network none \
        "${LIMITS[@]}" "$@"
}

expect() { # text description pattern...: every fixed-string pattern occurs in text
    local text=$1 what=$2
    shift 2
    for p in "$@"; do
        grep -qF -- "$p" <<<"$text" || { printf '%s\n' "$text" >&2; die "$what: the output above lacks '$p'"; }
    done
}

healthcheck() { # image expected-exit: the image's HEALTHCHECK, run in a started container
    local image=$1 want=$2 name="${TAG##*/}-health-$RANDOM" got=0
    # (podman cannot schedule health checks without systemd and says so; this runs it by hand)
    pm run -d --name "$name" --network none "${LIMITS[@]}" --entrypoint sleep "$image" 600 >/dev/null 2>"$WORK/run.txt" \
        || { cat "$WORK/run.txt" >&2; die "could not start a container of $image"; }
    timeout 120 "${PM[@]}" healthcheck run "$name" >"$WORK/health.txt" 2>&1 || got=$?
    pm rm -f -t 0 "$name" >/dev/null 2>&1 || true
    [ "$got" = "$want" ] || { cat "$WORK/health.txt" >&2; die "$image: health check exited $got, expected $want"; }
}

log "CPU image: health check and doctor"
health=$(pm image inspect --format '{{json .HealthCheck}}' "$CPU_IMAGE")
expect "$health" "the CPU image's HEALTHCHECK (kept by the docker format)" '"doctor","--require","cpu"'
healthcheck "$CPU_IMAGE" 0
out=$(in_container 120 "$CPU_IMAGE" doctor --require cpu 2>&1) \
    || { echo "$out" >&2; die "doctor --require cpu failed in the CPU image"; }
expect "$out" "doctor in the CPU image" "Receptive's cpu image" "CPU works" "this is the CPU image" "Required: cpu works."
phase "CPU image: health check, doctor"

log "CPU image: one epoch on the Fashion-MNIST fixtures"
mkdir -p "$WORK/runs"
chown 1000:1000 "$WORK/runs"
DATA=()
for f in test-data/fashion-mnist-2k-train/train-*.gz test-data/fashion-mnist-1k/t10k-*.gz; do
    DATA+=(-v "$PWD/$f:/data/fashion-mnist/$(basename "$f"):ro")
done
out=$(in_container 600 --user 1000:1000 "${DATA[@]}" -v "$WORK/runs:/runs" "$CPU_IMAGE" \
    train --dataset fashion-mnist --epochs 1 --seed 1 --out /runs/fmnist 2>&1) \
    || { echo "$out" >&2; die "training in the CPU image failed"; }
accuracy=$(sed -n 's/^test_accuracy=\([0-9.]*\) .*/\1/p' <<<"$out")
# One epoch on these 2,000 images reached 0.745 on a 2-core AMD EPYC (host and container);
# chance is 0.10. 0.60 leaves room for another CPU's summation order without passing a network
# that did not learn.
awk -v a="${accuracy:-0}" 'BEGIN { exit !(a >= 0.60) }' \
    || { echo "$out" >&2; die "test accuracy ${accuracy:-missing} after one epoch is below 0.60"; }
log "test accuracy $accuracy"
for f in model.safetensors checkpoint.safetensors metrics.csv curves.png; do
    [ -s "$WORK/runs/fmnist/$f" ] || die "the run folder lacks $f"
done
phase "CPU image: train 1 epoch (2,000 images)"

log "CPU image: predict"
images=(test-data/image-folder/trouser/*.png)
out=$(in_container 300 -v "$PWD/test-data/image-folder:/images:ro" -v "$WORK/runs:/runs:ro" "$CPU_IMAGE" \
    predict /runs/fmnist/model.safetensors "${images[@]/#test-data\/image-folder//images}" 2>&1) \
    || { echo "$out" >&2; die "predict in the CPU image failed"; }
right=$(awk -F'\t' '$1 ~ /^\/images\/trouser\// && $2 == "Trouser"' <<<"$out" | wc -l)
# The model above classified 102 of the test set's 106 trousers right; these are 12 of them.
[ "$right" -ge $((${#images[@]} - 2)) ] \
    || { echo "$out" >&2; die "predict: only $right of ${#images[@]} trouser images classified as Trouser"; }
phase "CPU image: predict"

log "CPU image: serve (its default command) answers over HTTP and stops on SIGTERM"
served="${TAG##*/}-serve-$RANDOM"
pm run -d --name "$served" --network none "${LIMITS[@]}" -v "$WORK/runs/fmnist:/models:ro" \
    -v "$PWD/test-data/image-folder:/images:ro" "$CPU_IMAGE" >/dev/null 2>"$WORK/run.txt" \
    || { cat "$WORK/run.txt" >&2; die "could not start serve in the CPU image"; }
http() { # request-line [file]: one HTTP/1.0 exchange with the server inside its container (bash's /dev/tcp)
    pm exec "$served" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080 || exit 1
        if [ -n "$2" ]; then
            printf "%s HTTP/1.0\r\nHost: localhost\r\nContent-Type: image/png\r\nContent-Length: %s\r\n\r\n" "$1" "$(stat -c %s "$2")" >&3
            cat "$2" >&3
        else
            printf "%s HTTP/1.0\r\nHost: localhost\r\n\r\n" "$1" >&3
        fi
        cat <&3' http "$@" 2>/dev/null
}
ready=""
for _ in $(seq 1 120); do
    if http "GET /v2/health/ready" | head -1 | grep -q " 200"; then ready=yes; break; fi
    sleep 1
done
[ -n "$ready" ] || { pm logs "$served" >&2; die "serve in the CPU image was not ready within 120 s"; }
out=$(http "POST /predictions/model" "/images/trouser/$(basename "${images[0]}")")
expect "$out" "serve's image prediction" " 200" '"Trouser"'
code=0
timeout 60 "${PM[@]}" stop -t 20 "$served" >/dev/null 2>&1 || code=$?
exited=$(pm inspect --format '{{.State.ExitCode}}' "$served" 2>/dev/null || echo "?")
pm rm -f -t 0 "$served" >/dev/null 2>&1 || true
# The JVM ends with 143 (128 + SIGTERM) after its shutdown hook drained the server; 137 would
# mean podman had to kill it.
[ "$code" = 0 ] && { [ "$exited" = 0 ] || [ "$exited" = 143 ]; } \
    || die "serve did not stop cleanly on SIGTERM (stop $code, exit code $exited)"
phase "CPU image: serve"

log "CUDA image (no CUDA libraries in its base): doctor and health check"
health=$(pm image inspect --format '{{json .HealthCheck}}' "$CUDA_IMAGE")
expect "$health" "the CUDA image's HEALTHCHECK" '"doctor","--require","cuda"'
code=0
out=$(in_container 120 "$CUDA_IMAGE" doctor --require cuda 2>&1) || code=$?
[ $code = 1 ] || { echo "$out" >&2; die "doctor --require cuda exited $code in a CUDA image without CUDA, expected 1"; }
expect "$out" "doctor in the CUDA image" "(/opt/java/openjdk)" "Receptive's cuda image, built FROM $DEBIAN" \
    "libcuda.so.1 not found" "libcublas.so.12 not found" "libcudnn.so.9 not found" \
    "the NVIDIA driver (libcuda.so.1) comes from the host: run the container with --gpus all" \
    "this image's base $DEBIAN lacks cuBLAS for CUDA 12 (libcublas.so.12)" \
    "this image's base $DEBIAN lacks cuDNN 9 (libcudnn.so.9)" \
    "CPU works" "Required: cuda does not work."
healthcheck "$CUDA_IMAGE" 1
phase "CUDA image: doctor, health check"

sizes=$(pm images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "receptive-test/(app-$$|jdk|jre|debian)" || true)
log "passed in $((SECONDS - START)) s"
printf '  %s\n' "${TIMES[@]}" >&2
printf '%s\n' "$sizes" | sed 's/^/  image /' >&2
