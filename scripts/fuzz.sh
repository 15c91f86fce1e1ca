#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan, and runs
# each from its committed seed corpus for a fixed time; fails on any finding
# (crash, sanitizer report, non-seqcnn exception, broken invariant, timeout,
# out-of-memory, leak).
#   scripts/fuzz.sh [seconds-per-target] [target ...]
#   SEQCNN_FUZZ_SECONDS     seconds per target (default 60)
#   SEQCNN_FUZZ_BUILD_DIR   build directory (default build-fuzz)
# Targets: three_line fasta conll config_json checkpoint resume (default: all).
# New interesting inputs accumulate in <build>/fuzz-corpus/<target>, so a
# later run continues where this one stopped; a finding is saved as
# <build>/fuzz-findings/<target>/crash-* (and the like) and printed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh fuzz
seconds=${1:-${SEQCNN_FUZZ_SECONDS:-60}}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(three_line fasta conll config_json checkpoint resume)
build=${SEQCNN_FUZZ_BUILD_DIR:-build-fuzz}
cxx=${SEQCNN_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++)}
cc=${SEQCNN_FUZZ_CC:-$(command -v clang-14 || command -v clang)}

CC="$cc" CXX="$cxx" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEQCNN_CUDA=OFF \
  -DSEQCNN_FUZZ=ON -DSEQCNN_TESTS=OFF -DSEQCNN_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_targets

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=()
for t in "${targets[@]}"; do
  exe="$build/fuzz/fuzz_$t"
  [ -x "$exe" ] || { echo "fuzz.sh: no target '$t'" >&2; exit 2; }
  corpus="$build/fuzz-corpus/$t"
  findings="$build/fuzz-findings/$t"
  mkdir -p "$corpus" "$findings"
  dict=()
  case "$t" in
    config_json) dict=(-dict=fuzz/dicts/config_json.dict) ;;
    checkpoint | resume) dict=(-dict=fuzz/dicts/checkpoint.dict) ;;
  esac
  echo "== fuzz_$t: ${seconds}s"
  log="$findings/fuzz.log"
  # -timeout: one input may take 10 s at most; -rss_limit_mb/-malloc_limit_mb:
  # no input may make a reader allocate more than 2 GiB.
  if ! "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$findings/" "${dict[@]}" "$corpus" "fuzz/corpus/$t" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "== fuzz_$t: FINDING (log: $log; inputs: $findings/)" >&2
    failed+=("$t")
  else
    grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE|cov:" "$log" | tail -n 2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: findings in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: no findings in ${targets[*]} (${seconds}s each)"
