#!/usr/bin/env bash
# PyTorch's first 100 training losses for the seed preset (seed 1), given
# seqcnn's initial weights and batch plan. The C++ test
# TrainingAgainstPyTorch.SeedPresetFirst100StepsMatch replays the run and
# compares. Rerun after any change to initialisation, shuffling or data:
#   tests/golden/make_training_fixture.sh build/seqcnn
set -euo pipefail
cli=${1:-build/seqcnn}
run=$(mktemp -d)
"$cli" train --preset seed --seed 1 --threads 1 --epochs 8 --log-every 1 --valid none --test none --quiet --out "$run"
/usr/bin/python3 bench/peers/torch_peer.py compare --run "$run" --steps 100 \
  --write-losses tests/golden/fixtures/seed_preset_100_steps.json
rm -rf "$run"
