#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (GPU tests report
# themselves as skipped, with the reason, when there is no GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir "${SEQCNN_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
