#!/usr/bin/env bash
# Builds, on this machine, what scripts/gpu-check.sh runs on a GPU machine
# that can build nothing itself (no network, no -dev packages): a lean
# Release build of the CUDA backend for sm_90 (no OpenBLAS), with the CLI,
# the test program and the benchmark programs, staged into
# .gpu-carry/build/ in the layout of a build tree:
#   seqcnn  tests/seqcnn_tests  bench/kernels/seqcnn_bench_kernels  bench/e2e/seqcnn_bench_e2e
# plus .gpu-carry/deps/ (the headers, static GoogleTest libraries and CMake
# package files of nlohmann-json, CLI11 and GoogleTest) so that
# gpu-check.sh can rebuild from source there when the carried binaries do
# not run, and .gpu-carry/MANIFEST (commit, options, sizes, checksums).
# The binaries need glibc >= 2.34, libstdc++ of GCC 11 or newer, libgomp,
# and the CUDA libraries (cuBLAS of the CUDA 13 toolkit, cuDNN 9) on the GPU
# machine. (Linking libstdc++ statically would raise the glibc floor to
# 2.36: GCC 12's libstdc++ calls arc4random.)
#
#   scripts/gpu-carry.sh [--jobs N] [--limit-mib N]
#
# Objects go to build-carry/ (kept for incremental rebuilds, never carried).
# Fails when .gpu-carry/ exceeds the carry limit (default 64 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=2
limit_mib=64
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs=$2; shift 2 ;;
    --limit-mib) limit_mib=$2; shift 2 ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "gpu-carry: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

export PATH="$PATH:/usr/local/cuda/bin"
command -v nvcc >/dev/null || { echo "gpu-carry: nvcc not found (looked in PATH and /usr/local/cuda/bin)" >&2; exit 1; }

objects=build-carry
carry=.gpu-carry
stage=$carry/build

echo "== configure $objects (Release, CUDA on, sm_90, no BLAS)"
cmake -S . -B "$objects" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSEQCNN_CUDA=ON -DSEQCNN_BLAS=OFF -DSEQCNN_TESTS=ON -DSEQCNN_BENCH=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90-real -DCMAKE_EXE_LINKER_FLAGS="" >/dev/null

targets=(seqcnn_cli seqcnn_tests)
for t in seqcnn_bench_kernels seqcnn_bench_e2e; do
  if ninja -C "$objects" -t targets all 2>/dev/null | grep -q "^$t:"; then targets+=("$t"); fi
done
echo "== build ${targets[*]} (-j$jobs)"
cmake --build "$objects" -j "$jobs" --target "${targets[@]}"

echo "== stage $stage"
rm -rf "$carry"
mkdir -p "$stage/tests" "$stage/bench/kernels" "$stage/bench/e2e"
stage_binary() {  # source, destination (relative to the stage), stripped of symbols
  [ -f "$objects/$1" ] || return 0
  cp "$objects/$1" "$stage/$2"
  strip --strip-unneeded "$stage/$2"
}
stage_binary seqcnn seqcnn
stage_binary tests/seqcnn_tests tests/seqcnn_tests
stage_binary bench/kernels/seqcnn_bench_kernels bench/kernels/seqcnn_bench_kernels
stage_binary bench/e2e/seqcnn_bench_e2e bench/e2e/seqcnn_bench_e2e

echo "== stage $carry/deps (for a rebuild on the GPU machine)"
deps=$carry/deps/usr
arch_lib=/usr/lib/x86_64-linux-gnu
copy_dep() {  # a path under /usr, copied with its directory structure
  if [ -e "$1" ]; then
    mkdir -p "$deps/$(dirname "${1#/usr/}")"
    cp -r "$1" "$deps/${1#/usr/}"
  else
    echo "gpu-carry: note: $1 is missing here; a rebuild there will lack it" >&2
  fi
}
copy_dep /usr/include/nlohmann
copy_dep /usr/share/cmake/nlohmann_json
copy_dep /usr/include/CLI
copy_dep /usr/share/cmake/CLI11
copy_dep /usr/include/gtest
copy_dep /usr/include/gmock
copy_dep $arch_lib/cmake/GTest
for lib in libgtest.a libgtest_main.a libgmock.a libgmock_main.a; do copy_dep "$arch_lib/$lib"; done

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=""
if git status --porcelain --untracked-files=no 2>/dev/null | grep -q .; then
  dirty=" (the working tree had uncommitted changes)"
fi
{
  echo "commit: $commit$dirty"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n), $(sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '"')"
  echo "nvcc: $(nvcc --version | grep -o 'release [0-9.]*, V[0-9.]*')"
  echo "compiler: $(c++ --version | head -n 1)"
  echo "options: Release, SEQCNN_CUDA=ON, SEQCNN_BLAS=OFF, CMAKE_CUDA_ARCHITECTURES=90-real"
  echo "needs: $(objdump -T "$stage/seqcnn" "$stage/tests/seqcnn_tests" 2>/dev/null | grep -o 'GLIBC_2\.[0-9]*\|GLIBCXX_3\.4\.[0-9]*' | sort -uV | awk -F_ '{v[$1] = $0} END {print v["GLIBC"] ", " v["GLIBCXX"]}')"
  echo "binaries (sha256, bytes, path):"
  (cd "$stage" && find . -type f | sort | while read -r f; do
    echo "  $(sha256sum "$f" | cut -c1-16) $(stat -c %s "$f") ${f#./}"
  done)
} >"$carry/MANIFEST"

size_kib=$(du -sk "$carry" | cut -f1)
limit_kib=$((limit_mib * 1024))
cat "$carry/MANIFEST"
echo "== $carry: $((size_kib / 1024)) MiB ($size_kib KiB), limit $limit_mib MiB"
if [ "$size_kib" -gt "$limit_kib" ]; then
  echo "gpu-carry: $carry is larger than the carry limit of $limit_mib MiB" >&2
  exit 1
fi
echo "gpu-carry: ready; carry '$carry' and run scripts/gpu-check.sh on the GPU machine"
