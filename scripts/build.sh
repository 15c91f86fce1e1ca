#!/usr/bin/env bash
# Configures and builds seqcnn into ${SEQCNN_BUILD_DIR:-build}.
#   SEQCNN_CUDA=AUTO|ON|OFF   (default AUTO: the CUDA backend when nvcc exists)
#   SEQCNN_WERROR=ON|OFF      (default OFF)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SEQCNN_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSEQCNN_CUDA="${SEQCNN_CUDA:-AUTO}" -DSEQCNN_WERROR="${SEQCNN_WERROR:-OFF}" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
