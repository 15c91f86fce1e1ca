#!/usr/bin/env bash
# Test-split accuracy of seqcnn and PyTorch on the same architecture,
# optimiser, initial weights, batches and epochs, over several seeds.
#   bench/peers/compare_accuracy.sh PRESET [SEEDS...] [-- extra seqcnn train flags]
# Prints one line per seed and the means; needs python3 with torch (Debian's
# python3-torch is enough). Writes runs under runs/compare-PRESET-SEED.
set -euo pipefail
cd "$(dirname "$0")/../.."
preset=${1:?preset}; shift
seeds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do seeds+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
mkdir -p runs
cli=${SEQCNN_CLI:-build/seqcnn}
py=${PYTHON:-/usr/bin/python3}
threads=${THREADS:-$(nproc)}
printf "%-8s %6s %12s %12s %14s %14s\n" preset seed seqcnn_test torch_test seqcnn_tok/s torch_tok/s
sum_s=0; sum_t=0
for seed in "${seeds[@]}"; do
  run=runs/compare-$preset-$seed
  "$cli" train --preset "$preset" --seed "$seed" --threads "$threads" --out "$run" --quiet "$@" > "$run.txt" 2>&1 ||
    { cat "$run.txt"; exit 1; }
  s_acc=$(grep -o 'test accuracy (Q[0-9]*): [0-9.]*' "$run.txt" | awk '{print $NF}')
  s_tps=$(grep -o '"event":"end".*' "$run/train.jsonl" | grep -o '"tokens_per_s":[0-9.e+]*' | cut -d: -f2)
  "$py" bench/peers/torch_peer.py train --run "$run" --threads "$threads" 2>/dev/null > "$run.torch.json"
  t_acc=$("$py" -c "import json;print('%.2f'%(100*json.load(open('$run.torch.json'))['test_accuracy']))")
  t_tps=$("$py" -c "import json;print('%.0f'%json.load(open('$run.torch.json'))['train_tokens_per_s_incl_eval'])")
  printf "%-8s %6s %12s %12s %14.0f %14s\n" "$preset" "$seed" "$s_acc" "$t_acc" "$s_tps" "$t_tps"
  sum_s=$(echo "$sum_s + $s_acc" | bc -l); sum_t=$(echo "$sum_t + $t_acc" | bc -l)
done
n=${#seeds[@]}
printf "mean     %6s %12.2f %12.2f\n" "" "$(echo "$sum_s / $n" | bc -l)" "$(echo "$sum_t / $n" | bc -l)"
