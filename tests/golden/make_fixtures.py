#!/usr/bin/env python3
"""Writes the golden fixtures the C++ tests compare seqcnn against.

PyTorch (CPU, float64) computes, for a small model with an even kernel and a
dilated layer and a packed batch of awkward lengths (1 to 13, with unlabelled
residues): the logits, the loss under each reduction, every gradient, and
five AdamW steps (weight decay, clipping, warm-up). Run from the repository
root with Debian's python3-torch:

    /usr/bin/python3 tests/golden/make_fixtures.py

and commit tests/golden/fixtures/. The tests only read the fixtures.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench", "peers"))
from torch_peer import IGNORE, SeqCNN, make_optimizer, pad_batch, save_safetensors, scheduled_lr  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "fixtures")
VOCAB = 22  # <pad>, 20 amino acids, X
CONVS = [{"channels": 5, "kernel": 4, "dilation": 1}, {"channels": 7, "kernel": 3, "dilation": 2}]
EMBED, CLASSES = 6, 3
LENGTHS = [9, 1, 13, 4]
CLASS_WEIGHTS = [1.0, 2.0, 0.5]
SMOOTHING = 0.1
OPTIM = {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01, "decay_embedding": False,
         "decay_bias": False, "clip_norm": 0.5, "schedule": "cosine", "warmup_steps": 2, "min_lr_ratio": 0.1}
ADAM_STEPS, TOTAL_STEPS = 5, 8


def per_row(logits, labels, weight, smoothing):
    C = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, C), labels.reshape(-1), weight=weight, ignore_index=IGNORE,
                           label_smoothing=smoothing, reduction="none").reshape(labels.shape)


def main():
    torch.manual_seed(20261203)
    rng = np.random.default_rng(7)
    records = []
    for n in LENGTHS:
        toks = rng.integers(1, VOCAB, size=n).tolist()
        ys = rng.integers(0, CLASSES, size=n).tolist()
        for i in range(n):
            if n > 1 and rng.random() < 0.2:
                ys[i] = IGNORE  # unresolved residue: real input, no label
        records.append(("r%d" % len(records), toks, ys))
    model = SeqCNN(VOCAB, EMBED, CONVS, CLASSES).double()
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    t, y, m = pad_batch(records, list(range(len(records))))
    mask = m.bool()

    logits = model(t, m)
    out = {"tokens": np.concatenate([np.array(r[1], dtype=np.int32) for r in records]),
           "labels": np.concatenate([np.array(r[2], dtype=np.int32) for r in records]),
           "lengths": np.array(LENGTHS, dtype=np.int32),
           "class_weights": np.array(CLASS_WEIGHTS, dtype=np.float64),
           "label_smoothing": np.array([SMOOTHING]),
           "logits": logits[mask].detach().numpy()}
    for k, v in init.items():
        out["init." + k] = v.numpy()

    def record_case(tag, loss):
        model.zero_grad()
        loss.backward()
        out["loss." + tag] = np.array([loss.item()])
        for k, p in model.named_parameters():
            out["grad.%s.%s" % (tag, k)] = p.grad.detach().numpy().copy()

    C = CLASSES
    record_case("token_mean", F.cross_entropy(model(t, m).reshape(-1, C), y.reshape(-1), ignore_index=IGNORE))
    record_case("sum", F.cross_entropy(model(t, m).reshape(-1, C), y.reshape(-1), ignore_index=IGNORE, reduction="sum"))
    rows = per_row(model(t, m), y, None, 0.0)
    counted = (y != IGNORE).sum(dim=1)
    keep = counted > 0
    record_case("sequence_mean", (rows.sum(dim=1)[keep] / counted[keep]).mean())
    w = torch.tensor(CLASS_WEIGHTS, dtype=torch.float64)
    record_case("weighted_smoothed", F.cross_entropy(model(t, m).reshape(-1, C), y.reshape(-1), weight=w,
                                                     ignore_index=IGNORE, label_smoothing=SMOOTHING))

    # Five AdamW steps on the same batch: decoupled decay (weights only),
    # global-norm clipping, warm-up then cosine.
    opt = make_optimizer(model, OPTIM)
    losses = []
    for step in range(ADAM_STEPS):
        for g in opt.param_groups:
            g["lr"] = scheduled_lr(OPTIM, step, TOTAL_STEPS)
        opt.zero_grad()
        loss = F.cross_entropy(model(t, m).reshape(-1, C), y.reshape(-1), ignore_index=IGNORE)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), OPTIM["clip_norm"])
        opt.step()
        losses.append(loss.item())
    out["adamw.losses"] = np.array(losses)
    for k, v in model.state_dict().items():
        out["adamw.final." + k] = v.detach().numpy().copy()

    os.makedirs(OUT, exist_ok=True)
    meta = {"torch": torch.__version__, "optim": str(OPTIM), "total_steps": str(TOTAL_STEPS),
            "convs": str(CONVS), "embed_dim": str(EMBED)}
    save_safetensors(os.path.join(OUT, "small_model.safetensors"), out, meta)
    print("wrote", os.path.join(OUT, "small_model.safetensors"), "losses", losses)


if __name__ == "__main__":
    main()
