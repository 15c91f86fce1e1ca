#!/usr/bin/env bash
# The main job: installs what is missing, builds, and trains the default
# model on the bundled protein data; ends with the test-split accuracy.
# Extra arguments go to `seqcnn train` (e.g. --preset seed, --epochs 5).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
SEQCNN_CUDA=${SEQCNN_CUDA:-AUTO} scripts/build.sh
exec "${SEQCNN_BUILD_DIR:-build}/seqcnn" train --preset default --device auto --out runs/default "$@"
