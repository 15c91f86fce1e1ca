#!/usr/bin/env python3
"""The same model, data and batches as a seqcnn run, trained by PyTorch.

A seqcnn run directory holds init.safetensors (the initial weights, PyTorch
state_dict names and layouts) and train.jsonl (the config, the batch plan of
every epoch, and the step losses). This script rebuilds the model in PyTorch
from those weights and trains it on the very same batches, so the two runs
can be compared step by step or by final accuracy.

  compare: the first N step losses against seqcnn's (run with --log-every 1)
  train:   all epochs, validation each epoch, test accuracy of the best epoch

Needs PyTorch (CPU is enough) and numpy; nothing else.
"""
import argparse
import json
import math
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

IGNORE = -1


# --- files -------------------------------------------------------------------

def load_safetensors(path):
    """Returns ({name: tensor}, {metadata}) from a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    dtypes = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8}
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[base + b:base + end], dtype=dtypes[e["dtype"]]).reshape(e["shape"])
        tensors[name] = torch.from_numpy(arr.copy())
    return tensors, meta


def save_safetensors(path, tensors, metadata=None):
    """Writes {name: numpy array} as safetensors (F32/F64/I32/I64)."""
    names = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int32): "I32",
             np.dtype(np.int64): "I64"}
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        raw = arr.tobytes()
        header[name] = {"dtype": names[arr.dtype], "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    import os
    os.replace(tmp, path)


def read_three_line(path):
    lines = [l.rstrip("\r\n") for l in open(path, encoding="ascii")]
    lines = [l for l in lines if l]
    out = []
    for i in range(0, len(lines), 3):
        out.append((lines[i][1:], lines[i + 1], lines[i + 2]))
    return out


def encode(records, vocab_symbols, label_symbols, no_label):
    """Protein alphabet: case-folded, letters outside it map to X."""
    index = {s: i for i, s in enumerate(vocab_symbols)}
    unknown = index["X"]
    labels = {s: i for i, s in enumerate(label_symbols)}
    out = []
    for rid, seq, lab in records:
        toks = [index.get(c.upper(), unknown) for c in seq]
        ys = [IGNORE if c == no_label else labels[c] for c in lab]
        out.append((rid, toks, ys))
    return out


# --- the model -----------------------------------------------------------------

class SeqCNN(nn.Module):
    """Embedding -> [Conv1d('same') -> ReLU -> zero pads -> dropout] x N -> Linear."""

    def __init__(self, vocab, embed_dim, convs, classes, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed_dim, padding_idx=0)
        layers, width = [], embed_dim
        for c in convs:
            layers.append(nn.Conv1d(width, c["channels"], c["kernel"], dilation=c["dilation"], padding="same"))
            width = c["channels"]
        self.convs = nn.ModuleList(layers)
        self.dense = nn.Linear(width, classes)
        self.dropout = dropout

    def forward(self, tokens, mask):
        # tokens [B, L], mask [B, L] (1 = real residue)
        m = mask.unsqueeze(1).to(torch.bool)
        x = torch.where(m, self.embed(tokens).transpose(1, 2), torch.zeros((), dtype=self.embed.weight.dtype))
        for conv in self.convs:
            x = torch.where(m, F.relu(conv(x)), torch.zeros((), dtype=x.dtype))
            if self.dropout > 0:
                x = F.dropout(x, self.dropout, self.training)
        return self.dense(x.transpose(1, 2))  # [B, L, C]


def build_model(meta, dtype=torch.float32):
    cfg = meta["model"]
    model = SeqCNN(len(meta["vocab"]["symbols"]), cfg["embed_dim"], cfg["convs"], len(meta["labels"]["symbols"]),
                   cfg.get("dropout", 0.0))
    return model.to(dtype)


def pad_batch(encoded, indices):
    L = max(len(encoded[i][1]) for i in indices)
    B = len(indices)
    tokens = torch.zeros(B, L, dtype=torch.long)
    labels = torch.full((B, L), IGNORE, dtype=torch.long)
    mask = torch.zeros(B, L, dtype=torch.long)
    for b, i in enumerate(indices):
        _, t, y = encoded[i]
        tokens[b, :len(t)] = torch.tensor(t)
        labels[b, :len(y)] = torch.tensor(y)
        mask[b, :len(t)] = 1
    return tokens, labels, mask


# --- loss, schedule -----------------------------------------------------------

def row_losses(logits, labels, weight, smoothing):
    """PyTorch's per-position cross-entropy (0 at ignored positions)."""
    C = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, C), labels.reshape(-1), weight=weight, ignore_index=IGNORE,
                           label_smoothing=smoothing, reduction="none").reshape(labels.shape)


def step_loss(model, batches, loss_cfg, weight):
    """Loss of one optimiser step over its micro-batches, normalised by the
    whole step (token mean: by the counted weight; sequence mean: by the
    sequences that count)."""
    red, eps = loss_cfg["reduction"], loss_cfg["label_smoothing"]
    w_of = (lambda y: weight[y.clamp(min=0)]) if weight is not None else (lambda y: torch.ones(y.shape, dtype=torch.float64))
    counted = [(y != IGNORE) for _, y, _ in batches]
    yw = [torch.where(c, w_of(y).to(torch.float64), torch.zeros((), dtype=torch.float64)) for c, (_, y, _) in zip(counted, batches)]
    total_weight = float(sum(w.sum() for w in yw))
    n_seq = sum(int((w.sum(dim=1) > 0).sum()) for w in yw)
    if total_weight <= 0:
        return None, 0.0
    if len(batches) == 1 and red == "token_mean":
        t, y, m = batches[0]
        logits = model(t, m)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), weight=weight, ignore_index=IGNORE,
                               label_smoothing=eps, reduction="mean")
        return loss, total_weight
    loss = 0.0
    for (t, y, m), w in zip(batches, yw):
        per = row_losses(model(t, m), y, weight, eps)
        if red == "token_mean":
            loss = loss + per.sum() / total_weight
        elif red == "sum":
            loss = loss + per.sum()
        else:
            seq_w = w.sum(dim=1)
            keep = seq_w > 0
            loss = loss + (per.sum(dim=1)[keep] / seq_w[keep].to(per.dtype)).sum() / n_seq
    return loss, total_weight


def scheduled_lr(o, taken, total_steps):
    lr, warm = o["lr"], o["warmup_steps"]
    if warm > 0 and taken < warm:
        return lr * (taken + 1) / warm
    if o["schedule"] != "cosine":
        return lr
    span = total_steps - warm
    if span <= 0:
        return lr
    p = min(1.0, (taken - warm) / span)
    floor = o["min_lr_ratio"] * lr
    return floor + 0.5 * (lr - floor) * (1 + math.cos(math.pi * p))


def make_optimizer(model, o):
    decayed, plain = [], []
    for name, p in model.named_parameters():
        is_bias = name.endswith(".bias")
        is_embed = name.startswith("embed.")
        if (is_bias and not o["decay_bias"]) or (is_embed and not o["decay_embedding"]):
            plain.append(p)
        else:
            decayed.append(p)
    return torch.optim.AdamW([{"params": decayed, "weight_decay": o["weight_decay"]},
                              {"params": plain, "weight_decay": 0.0}],
                             lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"], foreach=False)


# --- evaluation ------------------------------------------------------------------

@torch.no_grad()
def accuracy(model, encoded, batch_size=64):
    model.eval()
    correct = total = 0
    for s in range(0, len(encoded), batch_size):
        t, y, m = pad_batch(encoded, list(range(s, min(len(encoded), s + batch_size))))
        pred = model(t, m).argmax(-1)
        c = y != IGNORE
        correct += int((pred[c] == y[c]).sum())
        total += int(c.sum())
    model.train()
    return correct / max(1, total)


# --- the run -----------------------------------------------------------------------

def read_run(run_dir):
    events = [json.loads(l) for l in open(f"{run_dir}/train.jsonl")]
    start = next(e for e in events if e["event"] == "start")
    plans = {e["epoch"]: e["batches"] for e in events if e["event"] == "plan"}
    steps = [e for e in events if e["event"] == "step"]
    epochs = [e for e in events if e["event"] == "epoch"]
    return start, plans, steps, epochs


def setup(run_dir):
    start, plans, steps, epochs = read_run(run_dir)
    tensors, meta = load_safetensors(f"{run_dir}/init.safetensors")
    meta = json.loads(meta["seqcnn"])
    model = build_model(meta)
    model.load_state_dict(tensors, strict=True)
    cfg = start["config"]
    vocab, labels, no_label = meta["vocab"]["symbols"], meta["labels"]["symbols"], meta["labels"]["no_label"]
    data = {split: encode(read_three_line(cfg["data"][split]), vocab, labels, no_label) if cfg["data"][split] else []
            for split in ("train", "valid", "test")}
    return start, plans, steps, epochs, model, cfg, data


def train_steps(model, cfg, plans, data, total_steps, max_steps=None, on_epoch=None):
    """Yields (step_index, loss) for every optimiser step taken."""
    o, loss_cfg = cfg["optim"], cfg["loss"]
    weight = torch.tensor(loss_cfg["class_weights"], dtype=torch.float32) if loss_cfg["class_weights"] else None
    opt = make_optimizer(model, o)
    acc = cfg["batch"]["accumulation"]
    taken = 0
    model.train()
    for epoch in sorted(plans):
        plan = plans[epoch]
        for s in range(0, len(plan), acc):
            batches = [pad_batch(data["train"], b) for b in plan[s:s + acc]]
            loss, weight_sum = step_loss(model, batches, loss_cfg, weight)
            if loss is None:
                continue  # all-masked: skipped, no step counted
            for g in opt.param_groups:
                g["lr"] = scheduled_lr(o, taken, total_steps)
            opt.zero_grad(set_to_none=False)
            loss.backward()
            if o["clip_norm"] > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), o["clip_norm"])
            opt.step()
            yield taken, float(loss)
            taken += 1
            if max_steps is not None and taken >= max_steps:
                return
        if on_epoch:
            on_epoch(epoch)


def cmd_compare(args):
    start, plans, steps, _, model, cfg, data = setup(args.run)
    if any(s["steps_in_mean"] != 1 for s in steps):
        sys.exit("compare needs a seqcnn run with --log-every 1 (one loss per step)")
    theirs = [s["loss"] for s in steps]
    n = min(args.steps, len(theirs))
    worst = 0.0
    ours = []
    for i, loss in train_steps(model, cfg, plans, data, start["total_steps"], max_steps=n):
        ours.append(loss)
        rel = abs(loss - theirs[i]) / max(abs(loss), 1e-30)
        worst = max(worst, rel)
        if args.verbose:
            print(f"step {i + 1:4d}  torch {loss:.7f}  seqcnn {theirs[i]:.7f}  rel {rel:.2e}")
    if args.write_losses:
        with open(args.write_losses, "w") as f:
            json.dump({"torch": torch.__version__, "seed": cfg["run"]["seed"], "preset": cfg["preset"],
                       "losses": ours}, f, indent=1)
    print(json.dumps({"steps": n, "max_relative_difference": worst, "tolerance": args.tolerance,
                      "torch": torch.__version__}))
    return 0 if worst <= args.tolerance else 1


def cmd_train(args):
    start, plans, _, _, model, cfg, data = setup(args.run)
    torch.manual_seed(cfg["run"]["seed"])
    if args.threads:
        torch.set_num_threads(args.threads)
    best = {"acc": -1.0, "epoch": 0, "state": None}
    history = []

    def on_epoch(epoch):
        acc = accuracy(model, data["valid"]) if data["valid"] else 0.0
        history.append({"epoch": epoch, "valid_accuracy": acc})
        if acc > best["acc"]:
            best.update(acc=acc, epoch=epoch, state={k: v.clone() for k, v in model.state_dict().items()})
        if args.verbose:
            print(f"epoch {epoch} valid accuracy {acc:.4f}", file=sys.stderr)

    tokens = sum(len(data["train"][i][1]) for plan in plans.values() for b in plan for i in b)
    t0 = time.time()
    for _ in train_steps(model, cfg, plans, data, start["total_steps"], on_epoch=on_epoch):
        pass
    seconds = time.time() - t0
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    test_acc = accuracy(model, data["test"]) if data["test"] else None
    print(json.dumps({"best_epoch": best["epoch"], "best_valid_accuracy": best["acc"], "test_accuracy": test_acc,
                      "train_tokens_per_s_incl_eval": tokens / seconds, "seconds": seconds,
                      "torch": torch.__version__, "threads": torch.get_num_threads(), "epochs": history}))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare", help="step losses against a seqcnn run")
    c.add_argument("--run", required=True)
    c.add_argument("--steps", type=int, default=100)
    c.add_argument("--tolerance", type=float, default=1e-4)
    c.add_argument("--verbose", action="store_true")
    c.add_argument("--write-losses", help="write PyTorch's step losses to this JSON file")
    t = sub.add_parser("train", help="train on the run's batches, report test accuracy")
    t.add_argument("--run", required=True)
    t.add_argument("--threads", type=int, default=0)
    t.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    return cmd_compare(args) if args.cmd == "compare" else cmd_train(args)


if __name__ == "__main__":
    sys.exit(main())
