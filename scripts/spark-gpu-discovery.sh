#!/usr/bin/env bash
# Spark resource discovery for GPUs (spark.executor.resource.gpu.discoveryScript): prints this
# host's GPU indexes as Spark expects, e.g. {"name": "gpu", "addresses": ["0", "1"]}. Receptive
# uses a task's address as its CUDA device ordinal; set CUDA_DEVICE_ORDER=PCI_BUS_ID in the
# executors' environment so that CUDA numbers the GPUs as nvidia-smi does.
set -euo pipefail
indexes=$(nvidia-smi --query-gpu=index --format=csv,noheader)
addresses=""
for i in $indexes; do
    addresses+="${addresses:+, }\"$i\""
done
echo "{\"name\": \"gpu\", \"addresses\": [$addresses]}"
