// The whole public API of seqcnn in one include. Each header is one concept
// and compiles alone, with no CUDA headers, in any C++20 translation unit:
//   config.hpp      TrainConfig and its parts, presets, JSON overrides
//   dataset.hpp     readers, vocabularies, label sets, datasets
//   model.hpp       the network and its flat parameter buffer
//   trainer.hpp     Trainer, evaluate, predict, prediction writers
//   checkpoint.hpp  safetensors checkpoints
//   errors.hpp      the exceptions every failure is reported with
// docs/api.md shows them working together.
#pragma once

#include "seqcnn/checkpoint.hpp"
#include "seqcnn/config.hpp"
#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"
#include "seqcnn/model.hpp"
#include "seqcnn/trainer.hpp"
