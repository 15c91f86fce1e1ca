// The whole public API of seqcnn.
#pragma once

#include "seqcnn/checkpoint.hpp"
#include "seqcnn/config.hpp"
#include "seqcnn/dataset.hpp"
#include "seqcnn/errors.hpp"
#include "seqcnn/model.hpp"
#include "seqcnn/trainer.hpp"
