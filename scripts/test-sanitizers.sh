#!/usr/bin/env bash
# Builds the CPU library, the program and the whole test suite with
# AddressSanitizer and UBSan (SEQCNN_SANITIZE=ON, no CUDA) and runs every
# test; the first sanitizer report stops its test and fails the run.
#   SEQCNN_ASAN_BUILD_DIR   build directory (default build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=${SEQCNN_ASAN_BUILD_DIR:-build-asan}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEQCNN_CUDA=OFF -DSEQCNN_SANITIZE=ON \
  -DSEQCNN_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"
# halt_on_error: the first report ends the process (UBSan is also built with
# -fno-sanitize-recover); detect_leaks: a leak fails the test at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 900
