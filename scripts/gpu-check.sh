#!/usr/bin/env bash
# The GPU check: everything about the CUDA backend that needs a GPU, in one
# run of about 8 minutes, on a machine with the CUDA 13 toolkit, CMake,
# ninja, compute-sanitizer and a python3 with PyTorch and cuDNN, and nothing
# else (no network, no -dev packages). It runs the build that
# scripts/gpu-carry.sh made elsewhere and carried here (.gpu-carry/), and
# rebuilds from source only when that build does not run. docs/gpu-check.md
# explains the steps; docs/gpu-report.md records the runs.
#
#   scripts/gpu-check.sh [--build DIR] [--out DIR] [--full] [--budget SECONDS]
#                        [--seed N] [--cpu-threads N] [--tolerance POINTS]
#                        [--only STEP,...] [--skip STEP,...] [--no-gpu-ok]
#
# Steps (each under `timeout`, all within --budget, default 480 s; 900 s with --full):
#   libraries      ldd of the carried binaries, cuDNN found (a Python package's
#                  nvidia/cudnn/lib, torch/lib, the toolkit), LD_LIBRARY_PATH set
#   rebuild        only when the carried build does not run: cmake + ninja here
#   gpu-tests      every GPU test of seqcnn_tests (gtest filter *Cuda*)
#   train-gpu      seqcnn train --device cuda, default preset, bundled data
#   cpu-reference  the same on the CPU, concurrently (else the recorded number in
#                  scripts/gpu-check-reference.env)
#   accuracy       GPU test Q3 within --tolerance points (default 0.5) of the CPU's
#   determinism    a second GPU training, same seed: checkpoints identical (cmp)
#   memcheck       compute-sanitizer memcheck: GPU tests and a one-epoch training
#   racecheck      compute-sanitizer racecheck: the kernels that use shared memory
#   bench-kernels  seqcnn_bench_kernels --device cuda --quick (--full: the sweep)
#   bench-e2e      bench/e2e/run_e2e.py --device cuda, small (--full: the sweep)
# --full also runs synccheck and initcheck (informational) and every GPU test
# under memcheck.
#
# Everything goes to --out (default $OUT, else runs/gpu-check): one log per
# step, env.txt, and summary.md (PASS/FAIL/SKIP per step, with the numbers).
# Exit status: 0 no step failed, 1 a step failed, 2 no GPU (nothing run),
# 3 bad usage. --no-gpu-ok runs the steps anyway on a machine without a GPU
# (to try this script itself).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 3
root=$(pwd)

# ------------------------------------------------------------ arguments
build=.gpu-carry/build
out=${OUT:-runs/gpu-check}
full=0
budget=""
seed=1
cpu_threads=""
tolerance=0.5
only=""
skip=""
no_gpu_ok=0
usage() { sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --full) full=1; shift ;;
    --budget) budget=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --cpu-threads) cpu_threads=$2; shift 2 ;;
    --tolerance) tolerance=$2; shift 2 ;;
    --only) only=",$2,"; shift 2 ;;
    --skip) skip=",$2,"; shift 2 ;;
    --no-gpu-ok) no_gpu_ok=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1' (see --help)" >&2; exit 3 ;;
  esac
done
[ -n "$budget" ] || budget=$([ "$full" = 1 ] && echo 900 || echo 480)
cores=$(nproc 2>/dev/null || echo 4)
[ -n "$cpu_threads" ] || cpu_threads=$((cores > 4 ? cores - 4 : 1))
python=${PYTHON:-python3}
export PATH="$PATH:/usr/local/cuda/bin"

mkdir -p "$out" || exit 3
out=$(cd "$out" && pwd)
exec > >(tee "$out/gpu-check.log") 2>&1
start_time=$(date +%s)

# ------------------------------------------------------------ bookkeeping
step_names=()
step_results=()
step_seconds=()
step_notes=()
numbers=()

record() {  # step result seconds note
  step_names+=("$1")
  step_results+=("$2")
  step_seconds+=("$3")
  step_notes+=("$4")
  printf '== %-14s %-4s %5ss  %s\n' "$1" "$2" "$3" "$4"
}
number() { numbers+=("$1"); }
elapsed() { echo $(($(date +%s) - start_time)); }
time_left() { echo $((budget - $(elapsed))); }
wanted() {  # whether a step is selected by --only / --skip
  if [ -n "$only" ] && [[ "$only" != *",$1,"* ]]; then return 1; fi
  if [ -n "$skip" ] && [[ "$skip" == *",$1,"* ]]; then return 1; fi
  return 0
}
# Runs a command under `timeout` with at most `limit` seconds (less when the
# budget is nearly spent), output to a log. Sets run_rc and run_seconds;
# run_rc 124 means it ran out of time.
run_limited() {  # limit log command...
  local limit=$1 log=$2 t0
  shift 2
  local left
  left=$(time_left)
  [ "$left" -lt "$limit" ] && limit=$left
  t0=$(date +%s)
  if [ "$limit" -lt 5 ]; then
    echo "gpu-check: no time left in the budget" >"$log"
    run_rc=124
  else
    echo "\$ $*" >"$log"
    timeout --kill-after=15 "$limit" "$@" >>"$log" 2>&1
    run_rc=$?
  fi
  run_seconds=$(($(date +%s) - t0))
}
# The step may start: selected, and at least `need` seconds of budget left.
may_run() {  # step need
  wanted "$1" || { record "$1" SKIP 0 "not selected"; return 1; }
  if [ "$(time_left)" -lt "$2" ]; then
    record "$1" SKIP 0 "time budget spent ($(elapsed)s of ${budget}s)"
    return 1
  fi
  return 0
}
timeout_note() {
  if [ "$1" = 124 ] || [ "$1" = 137 ]; then echo "timed out after ${2}s; "; fi
}

# ------------------------------------------------------------ summary
write_summary() {
  local gpu driver commit
  gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
  driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1)
  commit=$(sed -n 's/^commit: //p' "$build/../MANIFEST" 2>/dev/null | head -n 1)
  [ -n "$commit" ] || commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
  {
    echo "# gpu-check summary"
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "- commit: $commit"
    echo "- GPU: ${gpu:-none}; driver: ${driver:-none}; nvcc $(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*, V[0-9.]*' || echo 'absent')"
    echo "- build: $build_used"
    echo "- mode: $([ "$full" = 1 ] && echo full || echo default), budget ${budget}s, used $(elapsed)s"
    echo
    echo "| step | result | seconds | notes |"
    echo "|------|--------|--------:|-------|"
    local i
    for i in "${!step_names[@]}"; do
      echo "| ${step_names[$i]} | ${step_results[$i]} | ${step_seconds[$i]} | ${step_notes[$i]//|/\/} |"
    done
    if [ ${#numbers[@]} -gt 0 ]; then
      echo
      echo "## Numbers"
      echo
      for i in "${numbers[@]}"; do echo "- $i"; done
    fi
    for table in "$out/bench-kernels.md" "$out/bench-e2e/results.md"; do
      if [ -s "$table" ]; then
        echo
        echo "## $(basename "$(dirname "$table")")/$(basename "$table")"
        echo
        head -n 60 "$table"
      fi
    done
    echo
    echo "Logs: one per step in this directory; env.txt holds the machine's details."
  } >"$out/summary.md"
  echo
  cat "$out/summary.md"
}

finish() {
  write_summary
  local r
  for r in "${step_results[@]}"; do [ "$r" = FAIL ] && exit 1; done
  exit 0
}

build_used="(none)"

# ------------------------------------------------------------ environment
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -a)"
  [ -r /etc/os-release ] && grep PRETTY_NAME /etc/os-release
  echo "cores: $cores; memory: $(free -g 2>/dev/null | awk '/Mem:/ {print $2 " GiB"}')"
  echo "glibc: $(ldd --version 2>/dev/null | head -n 1)"
  echo "--- nvidia-smi"; nvidia-smi 2>&1 || true
  echo "--- nvcc"; nvcc --version 2>&1 || true
  echo "--- cmake: $(cmake --version 2>/dev/null | head -n 1); ninja: $(ninja --version 2>/dev/null)"
  echo "--- compute-sanitizer: $(compute-sanitizer --version 2>/dev/null | tail -n 1)"
  echo "--- $python: $($python --version 2>&1)"
  $python -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "gpu", torch.cuda.is_available())' 2>&1 || true
  echo "--- carried build"; cat "$build/../MANIFEST" 2>&1 || true
} >"$out/env.txt" 2>&1

# ------------------------------------------------------------ preflight: a GPU?
gpu_list=$(nvidia-smi -L 2>&1)
if ! echo "$gpu_list" | grep -q '^GPU '; then
  why=$(echo "$gpu_list" | head -n 1)
  [ -n "$why" ] || why="nvidia-smi printed nothing"
  command -v nvidia-smi >/dev/null || why="nvidia-smi not found"
  if [ "$no_gpu_ok" != 1 ]; then
    echo "gpu-check: no GPU on this machine ($why); nothing was run."
    echo "gpu-check: run it on the GPU machine; --no-gpu-ok runs the steps anyway, to try the script."
    record preflight SKIP 0 "no GPU: $why"
    write_summary
    exit 2
  fi
  echo "gpu-check: no GPU ($why); --no-gpu-ok: running the steps anyway"
  record preflight SKIP 0 "no GPU ($why); steps run anyway (--no-gpu-ok)"
  have_gpu=0
else
  record preflight PASS 0 "$(echo "$gpu_list" | head -n 1 | cut -c1-80)"
  have_gpu=1
fi

# ------------------------------------------------------------ libraries
# Directories that may hold a CUDA library the binaries need, best first:
# the toolkit, then the NVIDIA Python packages (cuDNN ships as nvidia-cudnn-*,
# its lib/ has libcudnn.so.9 and the sub-libraries it loads), then torch/lib.
candidate_lib_dirs() {
  local d
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda/lib; do
    [ -d "$d" ] && echo "$d"
  done
  $python - <<'EOF' 2>/dev/null
import glob, os, site, sys
roots = []
try:
    import nvidia
    roots += list(nvidia.__path__)
except Exception:
    pass
for sp in site.getsitepackages() + [site.getusersitepackages()] + sys.path:
    roots.append(os.path.join(sp, "nvidia"))
seen = set()
for r in roots:
    for d in sorted(glob.glob(os.path.join(r, "*", "lib"))):
        if d not in seen and os.path.isdir(d):
            seen.add(d)
            print(d)
try:
    import torch
    print(os.path.join(os.path.dirname(torch.__file__), "lib"))
except Exception:
    pass
EOF
}

# The directory of the first candidate that holds `name`, else ldconfig's.
find_library_dir() {  # name
  local d
  while read -r d; do
    [ -e "$d/$1" ] && { echo "$d"; return 0; }
  done < <(candidate_lib_dirs)
  d=$(ldconfig -p 2>/dev/null | awk -v n="$1" '$1 == n {print $NF; exit}')
  [ -n "$d" ] && { dirname "$d"; return 0; }
  return 1
}

add_library_dir() {
  case ":${LD_LIBRARY_PATH:-}:" in
    *":$1:"*) ;;
    *) export LD_LIBRARY_PATH="$1${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
  esac
}

binaries_of() {  # build dir: the programs the steps run, those present
  local b
  for b in seqcnn tests/seqcnn_tests bench/kernels/seqcnn_bench_kernels bench/seqcnn_bench_kernels \
           bench/e2e/seqcnn_bench_e2e; do
    [ -x "$1/$b" ] && echo "$1/$b"
  done
}

# Resolves what ldd cannot find; returns 1 when something stays missing.
resolve_libraries() {  # build dir, log
  local bin missing name dir ok=0
  : >"$2"
  for bin in $(binaries_of "$1"); do
    missing=$(ldd "$bin" 2>/dev/null | awk '/not found/ {print $1}')
    for name in $missing; do
      if dir=$(find_library_dir "$name"); then
        add_library_dir "$dir"
        echo "$name -> $dir" >>"$2"
      fi
    done
  done
  # cuDNN 9 loads its sub-libraries (cnn, engines, ...) from its own
  # directory at run time: make sure that directory is on the path even
  # when ldd found libcudnn.so.9 through a cache.
  if dir=$(find_library_dir libcudnn.so.9); then add_library_dir "$dir"; echo "cuDNN: $dir" >>"$2"; fi
  for bin in $(binaries_of "$1"); do
    echo "--- ldd $bin" >>"$2"
    ldd "$bin" >>"$2" 2>&1
    if ldd "$bin" 2>&1 | grep -q 'not found'; then ok=1; fi
  done
  return $ok
}

# The carried build runs: every library resolves and the programs start.
build_runs() {  # build dir, log
  if [ ! -x "$1/seqcnn" ] || [ ! -x "$1/tests/seqcnn_tests" ]; then
    echo "no $1/seqcnn or $1/tests/seqcnn_tests" >>"$2"
    return 1
  fi
  resolve_libraries "$1" "$2" || { echo "missing libraries (see above)" >>"$2"; return 1; }
  "$1/tests/seqcnn_tests" --gtest_list_tests >/dev/null 2>>"$2" || { echo "seqcnn_tests does not start" >>"$2"; return 1; }
  "$1/seqcnn" --help >/dev/null 2>>"$2" || { echo "seqcnn does not start" >>"$2"; return 1; }
}

carried_ok=0
if wanted libraries; then
  t0=$(date +%s)
  if build_runs "$build" "$out/libraries.log"; then
    carried_ok=1
    build_used="$build (carried)"
    record libraries PASS $(($(date +%s) - t0)) "carried build runs; LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  else
    record libraries FAIL $(($(date +%s) - t0)) "carried build $build does not run: $(tail -n 1 "$out/libraries.log")"
  fi
else
  record libraries SKIP 0 "not selected"
  build_runs "$build" "$out/libraries.log" && carried_ok=1 && build_used="$build (carried)"
fi

# ------------------------------------------------------------ rebuild (fallback)
# Needs: cmake >= 3.24, ninja, a C++20 g++ with OpenMP, nvcc (CUDA 12+),
# cudnn.h and libcudnn.so.9 (the Python package nvidia-cudnn-* has both),
# and, since this machine has no -dev packages, .gpu-carry/deps/ from
# scripts/gpu-carry.sh (nlohmann-json, CLI11 and GoogleTest headers, static
# libraries and CMake files).
# shellcheck disable=SC2317  # run through `bash -c rebuild` under timeout
rebuild() {
  local dir=build-gpu-check deps="$root/.gpu-carry/deps/usr" cudnn_lib cudnn_inc
  cudnn_lib=$(find_library_dir libcudnn.so.9) || { echo "rebuild: no libcudnn.so.9 anywhere"; return 1; }
  cudnn_inc=""
  for d in "$cudnn_lib/../include" /usr/local/cuda/include /usr/include; do
    [ -e "$d/cudnn.h" ] && { cudnn_inc=$(cd "$d" && pwd); break; }
  done
  [ -n "$cudnn_inc" ] || { echo "rebuild: no cudnn.h next to $cudnn_lib or in the toolkit"; return 1; }
  [ -d "$deps" ] || echo "rebuild: no $deps; nlohmann-json, CLI11 and GoogleTest must then be installed"
  echo "rebuild: cuDNN $cudnn_lib (headers $cudnn_inc)"
  CPATH="$cudnn_inc${CPATH:+:$CPATH}" cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSEQCNN_CUDA=ON -DSEQCNN_BLAS=OFF -DCMAKE_CUDA_ARCHITECTURES=90-real \
    -DCMAKE_PREFIX_PATH="$deps" -DSEQCNN_CUDNN_LIBRARY="$cudnn_lib/libcudnn.so.9" \
    -DCMAKE_CUDA_FLAGS="-I$cudnn_inc" -DCMAKE_CXX_FLAGS="-I$cudnn_inc" || return 1
  local targets=(seqcnn_cli seqcnn_tests) t
  for t in seqcnn_bench_kernels seqcnn_bench_e2e; do
    ninja -C "$dir" -t targets all 2>/dev/null | grep -q "^$t:" && targets+=("$t")
  done
  CPATH="$cudnn_inc${CPATH:+:$CPATH}" cmake --build "$dir" -j "$cores" --target "${targets[@]}"
}

if [ "$carried_ok" = 1 ]; then
  record rebuild SKIP 0 "not needed: the carried build runs"
elif may_run rebuild 120; then
  export -f candidate_lib_dirs find_library_dir rebuild
  export python root cores
  run_limited 420 "$out/rebuild.log" bash -c rebuild
  if [ "$run_rc" = 0 ] && build_runs build-gpu-check "$out/libraries-rebuilt.log"; then
    build="build-gpu-check"
    build_used="build-gpu-check (rebuilt here: the carried build did not run)"
    record rebuild PASS "$run_seconds" "rebuilt from source into build-gpu-check"
  else
    record rebuild FAIL "$run_seconds" "$(timeout_note "$run_rc" "$run_seconds")$(tail -n 1 "$out/rebuild.log")"
    echo "gpu-check: neither the carried build nor a rebuild runs; see $out/libraries.log and $out/rebuild.log"
    finish
  fi
fi
[ "$carried_ok" = 1 ] || [ "$build" = build-gpu-check ] || finish

seqcnn="$build/seqcnn"
tests="$build/tests/seqcnn_tests"

# ------------------------------------------------------------ GPU tests
# Counts from gtest's closing lines: "[  PASSED  ] 12 tests." and the like.
gtest_count() {  # log, word
  sed -n "s/^\[ *$2 *\] \([0-9]*\) tests\{0,1\}[,.].*/\1/p" "$1" | tail -n 1
}
if may_run gpu-tests 60; then
  run_limited 300 "$out/gpu-tests.log" "$tests" --gtest_filter='*Cuda*:-Cli*' --gtest_color=no \
    --gtest_output="xml:$out/gpu-tests.xml"
  passed=$(gtest_count "$out/gpu-tests.log" PASSED)
  skipped=$(gtest_count "$out/gpu-tests.log" SKIPPED)
  failed=$(gtest_count "$out/gpu-tests.log" FAILED)
  note="${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
  number "GPU tests: $note"
  if [ "$run_rc" != 0 ]; then
    record gpu-tests FAIL "$run_seconds" "$(timeout_note "$run_rc" "$run_seconds")$note; failures: $(grep '^\[  FAILED  \] [A-Za-z]' "$out/gpu-tests.log" | head -n 5 | sed 's/\[  FAILED  \] //' | tr '\n' ' ')"
  elif [ "${skipped:-0}" != 0 ] && [ "$have_gpu" = 1 ]; then
    record gpu-tests FAIL "$run_seconds" "$note: a GPU is present but tests skipped ($(grep -m 1 -A 1 ': Skipped' "$out/gpu-tests.log" | tail -n 1))"
  elif [ "${skipped:-0}" != 0 ]; then
    record gpu-tests SKIP "$run_seconds" "$note (no GPU)"
  else
    record gpu-tests PASS "$run_seconds" "$note"
  fi
fi

# ------------------------------------------------------------ trainings
# Test accuracy and throughput from `seqcnn train`'s output.
test_q3() { sed -n 's/^test accuracy (Q[0-9]*): \([0-9.]*\)%.*/\1/p' "$1" | tail -n 1; }
train_rate() { sed -n 's/^trained .*, \([0-9]*\) tokens\/s.*/\1/p' "$1" | tail -n 1; }
# Both GPU runs use the same --out path (it is stored in the checkpoints),
# then move aside, so their checkpoints can be compared byte for byte.
gpu_train() {  # name, limit
  rm -rf "$out/runs/gpu" "$out/runs/$1"
  mkdir -p "$out/runs"
  run_limited "$2" "$out/$1.log" "$seqcnn" train --preset default --device cuda --seed "$seed" \
    --out "$out/runs/gpu" --quiet
  [ -d "$out/runs/gpu" ] && mv "$out/runs/gpu" "$out/runs/$1"
  return "$run_rc"
}

cpu_pid=""
cpu_limit=0
if wanted cpu-reference; then
  # Concurrently with the GPU steps, on the cores they leave; waited for
  # before the benchmarks, which must have the machine to themselves.
  cpu_limit=$(( $(time_left) - 60 ))
  [ "$cpu_limit" -gt 420 ] && cpu_limit=420
  if [ "$cpu_limit" -gt 60 ]; then
    rm -rf "$out/runs/cpu"
    mkdir -p "$out/runs"
    cpu_t0=$(date +%s)
    timeout --kill-after=15 "$cpu_limit" "$seqcnn" train --preset default --device cpu --seed "$seed" \
      --threads "$cpu_threads" --out "$out/runs/cpu" --quiet >"$out/train-cpu.log" 2>&1 &
    cpu_pid=$!
  fi
fi

gpu_q3=""
if may_run train-gpu 60; then
  if gpu_train train-gpu-a 240; then
    gpu_q3=$(test_q3 "$out/train-gpu-a.log")
    rate=$(train_rate "$out/train-gpu-a.log")
    device_line=$(grep -m 1 '^device: ' "$out/train-gpu-a.log")
    number "GPU training (default preset, seed $seed): test Q3 ${gpu_q3:-?}%, ${rate:-?} tokens/s, ${run_seconds}s in all"
    if [ -n "$gpu_q3" ] && [ "$device_line" = "device: cuda" ]; then
      record train-gpu PASS "$run_seconds" "test Q3 $gpu_q3%, $rate tokens/s"
    else
      record train-gpu FAIL "$run_seconds" "no test accuracy or not on the GPU ($device_line)"
    fi
  else
    record train-gpu FAIL "$run_seconds" "$(timeout_note "$run_rc" "$run_seconds")$(tail -n 1 "$out/train-gpu-a.log")"
  fi
fi

if ! wanted determinism; then
  record determinism SKIP 0 "not selected"
elif [ -z "$gpu_q3" ] || [ ! -d "$out/runs/train-gpu-a" ]; then
  record determinism SKIP 0 "no successful first GPU training to compare with"
elif may_run determinism 60; then
  if gpu_train train-gpu-b 240; then
    differ=""
    for f in init.safetensors last.safetensors best.safetensors; do
      cmp -s "$out/runs/train-gpu-a/$f" "$out/runs/train-gpu-b/$f" || differ="$differ $f"
    done
    if [ -z "$differ" ]; then
      record determinism PASS "$run_seconds" "two GPU trainings, seed $seed: init/last/best checkpoints identical"
    else
      first=$($python - "$out/runs/train-gpu-a/train.jsonl" "$out/runs/train-gpu-b/train.jsonl" <<'EOF' 2>/dev/null
import json, sys
def losses(path):
    out = []
    for line in open(path):
        e = json.loads(line)
        if e.get("event") == "step":
            out.append((e["step"], e["loss"]))
    return out
a, b = losses(sys.argv[1]), losses(sys.argv[2])
for x, y in zip(a, b):
    if x != y:
        print(f"first logged loss that differs: step {x[0]} ({x[1]!r} vs {y[1]!r})")
        break
else:
    print("logged losses agree")
EOF
)
      record determinism FAIL "$run_seconds" "checkpoints differ:$differ; $first"
    fi
  else
    record determinism FAIL "$run_seconds" "$(timeout_note "$run_rc" "$run_seconds")second run: $(tail -n 1 "$out/train-gpu-b.log")"
  fi
fi

# ------------------------------------------------------------ compute-sanitizer
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
# A cross-section of the GPU tests small enough for the sanitizers' slowdown;
# the out-of-memory test is left out (its failed allocation is the point).
memcheck_filter='*CudaEngine*:*CudaEmbedding*:*CudaSoftmaxXent*:*CudaAdamW*:*CudaReductions*:*CudaConv1dEdges*:*CudaConv1dParity*I17_O33_K4_d2*:*CudaConv1dParity*I16_O130*:*CudaDenseParity*J17*-*OutOfMemory*'
[ "$full" = 1 ] && memcheck_filter='*Cuda*-*OutOfMemory*'
# Kernels with shared memory: partial tables, conv tiles, warp/block reductions.
racecheck_filter='*CudaEmbeddingParity*V25_E17*:*CudaEmbeddingEdges.SharedTable*:*CudaConv1dParity*I17_O33_K3_d1*:*CudaConv1dParity*I16_O130*:*CudaSoftmaxXentParity*C33*:*CudaAdamWParity.SumOfSquares*:*CudaReductions*'

sanitize() {  # step, tool, limit, filter
  local step=$1 tool=$2 limit=$3 filter=$4 errors
  if [ ! -x "$sanitizer" ]; then record "$step" SKIP 0 "compute-sanitizer not found"; return; fi
  run_limited "$limit" "$out/$step-tests.log" "$sanitizer" --tool "$tool" --error-exitcode 99 --print-limit 20 \
    "$tests" --gtest_filter="$filter" --gtest_color=no
  local rc_tests=$run_rc secs=$run_seconds rc_train=0
  if [ "$tool" = memcheck ] && [ "$rc_tests" != 124 ]; then
    run_limited "$limit" "$out/$step-train.log" "$sanitizer" --tool memcheck --error-exitcode 99 --print-limit 20 \
      "$seqcnn" train --preset default --device cuda --epochs 1 --seed "$seed" --out "$out/runs/$step" --quiet --no-test
    rc_train=$run_rc
    secs=$((secs + run_seconds))
  fi
  errors=$(cat "$out/$step"-*.log 2>/dev/null | awk '/ERROR SUMMARY: [0-9]+ error/ {for (i = 1; i <= NF; ++i) if ($i == "SUMMARY:") n += $(i + 1); found = 1} END {if (found) print n}')
  if [ "$rc_tests" = 0 ] && [ "$rc_train" = 0 ]; then
    record "$step" PASS "$secs" "${errors:-0} errors ($tool: GPU tests$([ "$tool" = memcheck ] && echo ' and a one-epoch training'))"
  else
    record "$step" FAIL "$secs" "$(timeout_note "$rc_tests" "$secs")$(timeout_note "$rc_train" "$secs")${errors:-?} errors; exit $rc_tests/$rc_train; see $step-*.log"
  fi
}
memcheck_limit=200
[ "$full" = 1 ] && memcheck_limit=400
may_run memcheck 60 && sanitize memcheck memcheck "$memcheck_limit" "$memcheck_filter"
may_run racecheck 45 && sanitize racecheck racecheck 150 "$racecheck_filter"
if [ "$full" = 1 ]; then
  may_run synccheck 45 && sanitize synccheck synccheck 120 "$racecheck_filter"
  if may_run initcheck 45; then
    # Informational: kernels read some rows that no one wrote (gap rows they
    # then select away), which initcheck reports; the log lists them.
    run_limited 150 "$out/initcheck-tests.log" "$sanitizer" --tool initcheck --print-limit 20 \
      "$tests" --gtest_filter="$racecheck_filter" --gtest_color=no
    record initcheck SKIP "$run_seconds" "informational: $(grep -c 'Uninitialized' "$out/initcheck-tests.log") reports, see initcheck-tests.log"
  fi
fi

# ------------------------------------------------------------ accuracy
cpu_q3=""
cpu_source=""
if [ -n "$cpu_pid" ]; then
  wait "$cpu_pid"
  cpu_rc=$?
  cpu_q3=$(test_q3 "$out/train-cpu.log")
  cpu_seconds=$(($(date +%s) - cpu_t0))
  if [ "$cpu_rc" = 0 ] && [ -n "$cpu_q3" ]; then
    cpu_source="run here ($cpu_threads threads, ${cpu_seconds}s)"
    record cpu-reference PASS "$cpu_seconds" "test Q3 $cpu_q3% on $cpu_threads CPU threads"
  else
    record cpu-reference FAIL "$cpu_seconds" "$(timeout_note "$cpu_rc" "$cpu_seconds")exit $cpu_rc; $(tail -n 1 "$out/train-cpu.log")"
  fi
elif wanted cpu-reference; then
  record cpu-reference SKIP 0 "too little budget left to run it"
else
  record cpu-reference SKIP 0 "not selected"
fi
if [ -z "$cpu_q3" ] && [ -r scripts/gpu-check-reference.env ]; then
  ref_q3=$(sed -n 's/^REF_TEST_Q3=//p' scripts/gpu-check-reference.env)
  ref_seed=$(sed -n 's/^REF_SEED=//p' scripts/gpu-check-reference.env)
  ref_commit=$(sed -n 's/^REF_COMMIT=//p' scripts/gpu-check-reference.env)
  ref_threads=$(sed -n 's/^REF_THREADS=//p' scripts/gpu-check-reference.env)
  if [ "$ref_seed" = "$seed" ] && [ -n "$ref_q3" ]; then
    cpu_q3=$ref_q3
    cpu_source="recorded in scripts/gpu-check-reference.env (commit ${ref_commit:0:10}, $ref_threads threads)"
  fi
fi
if wanted accuracy; then
  if [ -n "$gpu_q3" ] && [ -n "$cpu_q3" ]; then
    diff_points=$(awk -v a="$gpu_q3" -v b="$cpu_q3" 'BEGIN {d = a - b; if (d < 0) d = -d; printf "%.2f", d}')
    within=$(awk -v d="$diff_points" -v t="$tolerance" 'BEGIN {print (d <= t) ? 1 : 0}')
    number "test Q3: GPU $gpu_q3%, CPU $cpu_q3% ($cpu_source): $diff_points points apart (tolerance $tolerance)"
    if [ "$within" = 1 ]; then
      record accuracy PASS 0 "GPU $gpu_q3% vs CPU $cpu_q3%: $diff_points points (<= $tolerance)"
    else
      record accuracy FAIL 0 "GPU $gpu_q3% vs CPU $cpu_q3%: $diff_points points (> $tolerance)"
    fi
  else
    record accuracy SKIP 0 "missing a number: GPU '${gpu_q3}', CPU '${cpu_q3}'"
  fi
fi

# ------------------------------------------------------------ benchmarks
kernels_bench=""
for b in "$build/bench/seqcnn_bench_kernels" "$build/bench/kernels/seqcnn_bench_kernels"; do
  [ -x "$b" ] && { kernels_bench=$b; break; }
done
if may_run bench-kernels 45; then
  if [ -z "$kernels_bench" ]; then
    record bench-kernels SKIP 0 "NOTE: no seqcnn_bench_kernels in $build/bench (not built yet?)"
  else
    quick=(--quick)
    limit=150
    if [ "$full" = 1 ]; then quick=(); limit=420; fi
    run_limited "$limit" "$out/bench-kernels.log" "$kernels_bench" --device cuda \
      ${quick[@]+"${quick[@]}"} --csv "$out/bench-kernels.csv" --md "$out/bench-kernels.md"
    if [ "$run_rc" = 0 ]; then
      record bench-kernels PASS "$run_seconds" "$(($(wc -l <"$out/bench-kernels.csv") - 1)) rows: bench-kernels.md"
    else
      record bench-kernels FAIL "$run_seconds" "$(timeout_note "$run_rc" "$run_seconds")$(tail -n 1 "$out/bench-kernels.log")"
    fi
  fi
fi

if may_run bench-e2e 60; then
  driver=bench/e2e/run_e2e.py
  docs_note=""
  [ -f docs/benchmarks.md ] || docs_note="; NOTE: docs/benchmarks.md is absent"
  if [ ! -f "$driver" ] || [ ! -x "$build/bench/e2e/seqcnn_bench_e2e" ]; then
    record bench-e2e SKIP 0 "NOTE: no $driver or $build/bench/e2e/seqcnn_bench_e2e (not built yet?)$docs_note"
  else
    peer=(--python "$python")
    $python -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null || peer=(--no-peer)
    if [ "$full" = 1 ]; then
      sizes=(--rounds 3 --data "ss,synthetic" --models "seed,default,wide" --layouts "packed,padded" --epochs 2
             --warmup-epochs 1)
      limit=600
    else
      sizes=(--rounds 1 --data ss --models "seed,default" --layouts "packed,padded" --epochs 1 --warmup-epochs 1)
      limit=240
    fi
    run_limited "$limit" "$out/bench-e2e.log" "$python" "$driver" --build "$build" \
      --device cuda "${sizes[@]}" "${peer[@]}" --out "$out/bench-e2e"
    if [ "$run_rc" = 0 ]; then
      record bench-e2e PASS "$run_seconds" "${peer[0]} ${peer[1]:-}: bench-e2e/results.md$docs_note"
    else
      record bench-e2e FAIL "$run_seconds" "$(timeout_note "$run_rc" "$run_seconds")$(tail -n 1 "$out/bench-e2e.log")$docs_note"
    fi
  fi
fi

finish
