#!/usr/bin/env bash
# Rebuild the Fashion-MNIST fixtures in test-data/ from the full set that
# scripts/fetch-datasets.sh caches: the first 1,000 TEST and the first 2,000 TRAIN items, as
# gzipped IDX files whose headers carry the new item counts. gzip -n keeps the output
# byte-identical from run to run (no file name or time stamp inside).
#   usage: scripts/make-fixture.sh [fashion-mnist folder]
set -euo pipefail

die() {
    echo "make-fixture: $*" >&2
    exit 1
}

src="${1:-${RECEPTIVE_DATA:-$HOME/.cache/receptive/datasets}/fashion-mnist}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d) || die "cannot create a temporary folder"
trap 'rm -rf -- "$work"' EXIT

be32() { # n → its 4 big-endian bytes
    printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))"
    printf "\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"
}

# split count dest → first `count` items of split (train or t10k) into dest, header rewritten.
subset() {
    local split=$1 count=$2 dest=$3
    local images="$src/$split-images-idx3-ubyte.gz" labels="$src/$split-labels-idx1-ubyte.gz"
    [[ -f "$images" && -f "$labels" ]] || die "no $split files in $src (run scripts/fetch-datasets.sh)"
    mkdir -p "$dest"
    # Decompress to files first: cutting a prefix off a live pipe would end it with SIGPIPE.
    gzip -dc "$images" >"$work/images" || die "cannot decompress $images"
    gzip -dc "$labels" >"$work/labels" || die "cannot decompress $labels"
    # IDX: magic (00 00 08 ndims), one big-endian int per dimension, then the bytes.
    { printf '\x00\x00\x08\x03'; be32 "$count"; be32 28; be32 28
      head -c $((16 + count * 28 * 28)) "$work/images" | tail -c $((count * 28 * 28)); } \
        | gzip -9n >"$dest/$split-images-idx3-ubyte.gz"
    { printf '\x00\x00\x08\x01'; be32 "$count"
      head -c $((8 + count)) "$work/labels" | tail -c "$count"; } \
        | gzip -9n >"$dest/$split-labels-idx1-ubyte.gz"
    echo "make-fixture: $dest ($count items)"
}

subset t10k 1000 "$repo/test-data/fashion-mnist-1k"
subset train 2000 "$repo/test-data/fashion-mnist-2k-train"
