#!/usr/bin/env python3
"""Training throughput of PyTorch on the same model, data and batches as a
seqcnn run (the peer side of bench/e2e/run_e2e.py).

A seqcnn run directory (seqcnn_bench_e2e --run-dir, or `seqcnn train --out`)
holds init.safetensors and train.jsonl with the config and every epoch's
batch plan. This script builds the same model from those weights and trains
it on the very same batches, in the same order, with the same optimiser,
schedule, clipping and dropout rate, and reports real residues per second of
the training steps.

Layouts, as seqcnn lays the batch out:
  packed  one [1, rows] sequence per batch: sequences one after another with
          `halo` zero rows between and around them (seqcnn's packed rows);
          the convolutions see the same rows seqcnn computes.
  padded  the classic [B, Lmax] batch PyTorch users write (zero-padded to the
          batch's longest sequence).

Batches are built before the clock starts (seqcnn's timing includes building
its batches), so the comparison leans, if at all, in PyTorch's favour.

Variants: eager (default), --tf32 (TF32 for cuDNN and matmuls on the GPU;
PyTorch leaves cuDNN TF32 on by default, eager turns it off), --compile
(torch.compile, PyTorch 2 and later).

Prints one JSON object. Needs PyTorch and numpy.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_peer import IGNORE, build_model, encode, load_safetensors, read_run, read_three_line, scheduled_lr  # noqa: E402


def halo_rows(convs):
    """The largest right reach d*(K-1) - padL over the conv layers."""
    reach = 0
    for c in convs:
        total = c["dilation"] * (c["kernel"] - 1)
        reach = max(reach, total - total // 2)
    return reach


def packed_batch(encoded, indices, halo):
    """seqcnn's packed rows: halo, then each sequence followed by halo zero rows."""
    rows = halo + sum(len(encoded[i][1]) + halo for i in indices)
    tokens = np.zeros((1, rows), dtype=np.int64)
    labels = np.full((1, rows), IGNORE, dtype=np.int64)
    mask = np.zeros((1, rows), dtype=np.int64)
    r = halo
    for i in indices:
        _, t, y = encoded[i]
        n = len(t)
        tokens[0, r:r + n] = t
        labels[0, r:r + n] = y
        mask[0, r:r + n] = 1
        r += n + halo
    return tokens, labels, mask


def padded_batch(encoded, indices):
    longest = max(len(encoded[i][1]) for i in indices)
    tokens = np.zeros((len(indices), longest), dtype=np.int64)
    labels = np.full((len(indices), longest), IGNORE, dtype=np.int64)
    mask = np.zeros((len(indices), longest), dtype=np.int64)
    for b, i in enumerate(indices):
        _, t, y = encoded[i]
        tokens[b, :len(t)] = t
        labels[b, :len(y)] = y
        mask[b, :len(t)] = 1
    return tokens, labels, mask


def make_optimizer(model, o, foreach):
    decayed, plain = [], []
    for name, p in model.named_parameters():
        is_bias, is_embed = name.endswith(".bias"), name.startswith("embed.")
        if (is_bias and not o["decay_bias"]) or (is_embed and not o["decay_embedding"]):
            plain.append(p)
        else:
            decayed.append(p)
    kwargs = {} if foreach is None else {"foreach": foreach}
    return torch.optim.AdamW([{"params": decayed, "weight_decay": o["weight_decay"]},
                              {"params": plain, "weight_decay": 0.0}],
                             lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"], **kwargs)


def reset_rss_peak():
    """Starts a new resident-set high-water mark (Linux clear_refs 5), as seqcnn_bench_e2e does."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_high_water_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="a seqcnn run directory (init.safetensors, train.jsonl)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (0: PyTorch's default)")
    p.add_argument("--warmup-epochs", type=int, default=1, help="epochs of the plan run untimed first")
    p.add_argument("--layout", choices=["packed", "padded"], help="default: the seqcnn run's layout")
    p.add_argument("--tf32", action="store_true", help="allow TF32 in cuDNN convolutions and matmuls")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (PyTorch >= 2)")
    p.add_argument("--cudnn-benchmark", action="store_true", help="let cuDNN time algorithms per shape")
    p.add_argument("--foreach", choices=["default", "on", "off"], default="default",
                   help="AdamW's multi-tensor path (default: PyTorch's own choice)")
    args = p.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    variant = "compile" if args.compile else ("eager-tf32" if args.tf32 else "eager")
    if args.device == "cuda":
        if not torch.cuda.is_available():
            sys.exit("torch_bench: --device cuda, but this PyTorch sees no GPU")
        torch.backends.cudnn.allow_tf32 = args.tf32
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
    if args.compile and not hasattr(torch, "compile"):
        print(json.dumps({"variant": variant, "available": False, "torch": torch.__version__,
                          "why": "torch.compile needs PyTorch 2 or later"}))
        return 0

    start, plans, _, _ = read_run(args.run)
    cfg = start["config"]
    tensors, meta = load_safetensors(os.path.join(args.run, "init.safetensors"))
    meta = json.loads(meta["seqcnn"])
    model = build_model(meta)
    model.load_state_dict(tensors, strict=True)
    model = model.to(device)
    model.train()
    if cfg["batch"]["accumulation"] != 1 or cfg["loss"]["reduction"] != "token_mean":
        sys.exit("torch_bench: only one micro-batch per step and the token-mean loss are supported")
    layout = args.layout or cfg["batch"]["layout"]
    halo = halo_rows(cfg["model"]["convs"])
    vocab, labels, no_label = meta["vocab"]["symbols"], meta["labels"]["symbols"], meta["labels"]["no_label"]
    data = encode(read_three_line(cfg["data"]["train"]), vocab, labels, no_label)

    # Every epoch's batches, on the device, before the clock starts; the
    # memory they hold is reported apart from the step's peak.
    before_batches = torch.cuda.memory_allocated() if args.device == "cuda" else 0
    epochs = []
    computed_rows = real_rows = 0
    for epoch in sorted(plans):
        batches = []
        for indices in plans[epoch]:
            t, y, m = packed_batch(data, indices, halo) if layout == "packed" else padded_batch(data, indices)
            real = int(m.sum())
            computed_rows += m.size
            real_rows += real
            counted = bool((y != IGNORE).any())
            batches.append((torch.from_numpy(t).to(device), torch.from_numpy(y).to(device),
                            torch.from_numpy(m).to(device), real, counted))
        epochs.append(batches)

    dataset_device_bytes = torch.cuda.memory_allocated() - before_batches if args.device == "cuda" else 0
    # The training peak starts here, the batches built; the reset also resets
    # getrusage's peak, so the process's peak so far is read first.
    loading_peak_rss_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    training_peak = reset_rss_peak()
    o, loss_cfg = cfg["optim"], cfg["loss"]
    weight = (torch.tensor(loss_cfg["class_weights"], dtype=torch.float32, device=device)
              if loss_cfg["class_weights"] else None)
    foreach = {"default": None, "on": True, "off": False}[args.foreach]
    opt = make_optimizer(model, o, foreach)
    forward = torch.compile(model, dynamic=True) if args.compile else model
    total_steps = start["total_steps"]
    torch.manual_seed(cfg["run"]["seed"])

    taken = 0
    per_epoch, per_cpu = [], []  # tokens per second, tokens per CPU-second of the process
    loss = torch.zeros(())
    for e, batches in enumerate(epochs):
        if args.device == "cuda":
            torch.cuda.synchronize()
        t0, c0 = time.perf_counter(), time.process_time()
        tokens = 0
        for t, y, m, real, counted in batches:
            tokens += real
            if not counted:
                continue  # seqcnn skips all-masked steps too
            logits = forward(t, m)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), weight=weight,
                                   ignore_index=IGNORE, label_smoothing=loss_cfg["label_smoothing"])
            for g in opt.param_groups:
                g["lr"] = scheduled_lr(o, taken, total_steps)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if o["clip_norm"] > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), o["clip_norm"])
            opt.step()
            taken += 1
        if args.device == "cuda":
            torch.cuda.synchronize()
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        if e >= args.warmup_epochs:
            per_epoch.append(tokens / seconds)
            per_cpu.append(tokens / cpu_seconds)
        print(f"torch_bench: epoch {e + 1}{' (warm-up)' if e < args.warmup_epochs else ''}: "
              f"{tokens / seconds:.0f} tok/s", file=sys.stderr)
    if not math.isfinite(float(loss)):
        sys.exit("torch_bench: the loss is not finite")
    peak_rss_bytes = max(loading_peak_rss_bytes, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    training_peak_rss_bytes = rss_high_water_bytes() if training_peak else -1
    peak_device_bytes = torch.cuda.max_memory_allocated() - dataset_device_bytes if args.device == "cuda" else -1

    print(json.dumps({
        "variant": variant, "available": True, "tokens_per_s": statistics.median(per_epoch) if per_epoch else 0.0,
        "epoch_tokens_per_s": per_epoch,
        "tokens_per_cpu_s": statistics.median(per_cpu) if per_cpu else 0.0, "layout": layout, "device": args.device,
        "padding_waste": 1.0 - real_rows / computed_rows if computed_rows else 0.0,
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "mkldnn": bool(torch.backends.mkldnn.is_available()), "tf32": bool(args.tf32),
        "cudnn_benchmark": bool(args.cudnn_benchmark), "foreach": args.foreach,
        "gpu": torch.cuda.get_device_name() if args.device == "cuda" else None,
        "peak_host_rss_bytes": peak_rss_bytes, "training_peak_host_rss_bytes": training_peak_rss_bytes,
        "peak_device_bytes": peak_device_bytes,
        "dataset_device_bytes": dataset_device_bytes, "final_loss": float(loss)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
