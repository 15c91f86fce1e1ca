#!/usr/bin/env python3
"""seqcnn against PyTorch, end to end, taking turns so machine noise hits both.

For every (data, model, layout) and every round, runs seqcnn_bench_e2e (one
configuration, keeping its run directory) and bench/peers/torch_bench.py on
that run's weights and batch plan, alternating who goes first from round to
round (seqcnn first in round 1: the peer needs its run directory). Reports the
median tokens/s of each side over the rounds and the median of the per-round
ratios seqcnn / PyTorch.

  bench/e2e/run_e2e.py --build build-bench --device cpu --threads 2 --rounds 3 \\
      --data ss --models seed,default,wide --layouts packed,padded --out runs/bench-e2e

Writes OUT/results.json (every measurement) and OUT/results.md, and prints the
table. Standard library only; the peer runs under --python (it needs torch).
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def git_commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_seqcnn(args, data, model, layout, run_dir, json_path):
    cmd = [args.e2e, "--device", args.device, "--threads", str(args.threads), "--data", data, "--models", model,
           "--layouts", layout, "--epochs", str(args.epochs), "--warmup-epochs", str(args.warmup_epochs),
           "--run-dir", run_dir, "--json", json_path]
    if args.synthetic_tokens:
        cmd += ["--synthetic-tokens", str(args.synthetic_tokens)]
    if data == "synthetic":
        cmd += ["--synthetic-dir", os.path.join(args.out, "synthetic")]
    if args.batch_rows:
        cmd += ["--batch-rows", str(args.batch_rows)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"run_e2e: seqcnn failed (exit {proc.returncode}): {' '.join(cmd)}")
    with open(json_path) as f:
        return json.load(f)["results"][0]


def run_peer(args, run_dir, variant):
    cmd = [args.python, os.path.join(ROOT, "bench", "peers", "torch_bench.py"), "--run", run_dir,
           "--device", args.device, "--warmup-epochs", str(args.warmup_epochs)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if variant == "eager-tf32":
        cmd += ["--tf32"]
    elif variant == "compile":
        cmd += ["--compile"]
    # A peer that cannot run (no torch, no CUDA build of it) leaves its column n/a.
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or ["exit %d" % proc.returncode])[-1]
        print(f"run_e2e: PyTorch ({variant}) did not run: {why}", file=sys.stderr)
        return {"variant": variant, "available": False, "why": why}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt_range(values):
    if not values:
        return "-"
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def memory_key(device):
    """Which peak both sides compare: device memory on a GPU, host RSS while training on the CPU."""
    return "peak_device_bytes" if device == "cuda" else "training_peak_host_rss_bytes"


def memory_note(device):
    if device == "cuda":
        return ("device memory during training (seqcnn: cudaMemGetInfo's used bytes above the bare context at the end "
                "of each epoch, so every allocation of every library counts: cuBLAS/cuDNN workspaces and module images, "
                "CUDA graphs; PyTorch: max_memory_allocated less its device-resident batches, its caching allocator's "
                "tensors only; the comparison is therefore tilted against seqcnn)")
    return ("peak resident set of each side's process while it trains (VmHWM after a reset once the data is "
            "read and the batches are built: the data, interpreter and libraries stay counted, the transient of "
            "reading the text does not); in brackets the whole process's peak (getrusage)")


def fmt_mib(value):
    return f"{value / 1048576:,.0f} MiB" if value is not None and value >= 0 else "-"


def fmt_process(value):
    """The whole process's peak, beside a training peak on the CPU."""
    return f" ({value / 1048576:,.0f})" if value is not None and value >= 0 else ""


def markdown(meta, rows, variants):
    out = [f"### seqcnn vs PyTorch, {meta['device']}", "",
           f"- date {meta['date']}, commit {meta['commit']}, threads {meta['threads'] or 'all'}, "
           f"{meta['rounds']} alternating rounds, {meta['warmup_epochs']} warm-up + {meta['epochs']} measured "
           f"epochs per run; tokens/s = median over rounds (min-max); ratio = median of per-round ratios (min-max)",
           "- per CPU-second: the same ratio with each side's process CPU time instead of wall time "
           "(hardly disturbed by other processes at 1 thread; with more threads it counts spin-waiting too)",
           f"- machine: {meta['cpus']} CPUs, 1-minute load average during the runs "
           f"{min(meta['load'], default=0):.1f}-{max(meta['load'], default=0):.1f} (other work shared the machine)",
           f"- PyTorch {meta.get('torch', '?')}, {meta['peer_note']}",
           f"- peak memory: {memory_note(meta['device'])}; largest over the rounds", ""]
    head = "| data | model | layout | seqcnn tok/s | seqcnn waste | seqcnn peak memory |"
    sep = "|---|---|---|---:|---:|---:|"
    for v in variants:
        head += (f" PyTorch {v} tok/s | PyTorch waste | seqcnn / PyTorch {v} | same, per CPU-second |"
                 f" PyTorch peak memory | memory seqcnn / PyTorch |")
        sep += "---:|---:|---:|---:|---:|---:|"
    out += [head, sep]
    for r in rows:
        line = (f"| {r['data']} | {r['model']} | {r['layout']} | {fmt_range(r['seqcnn'])} | {100 * r['waste']:.1f}% |"
                f" {fmt_mib(r['seqcnn_memory'])}{fmt_process(r.get('seqcnn_process_memory', -1))} |")
        for v in variants:
            peer = r["peer"].get(v, {})
            if not peer.get("available", True):
                line += " n/a | - | - | - | - | - |"
                continue
            ratios, cpu_ratios = peer.get("ratios", []), peer.get("cpu_ratios", [])
            mem, seq_mem = peer.get("memory", -1), r["seqcnn_memory"]
            mem_ratio = f"{seq_mem / mem:.2f}x" if mem > 0 and seq_mem >= 0 else "-"
            line += (f" {fmt_range(peer.get('tokens_per_s', []))} | {100 * peer.get('waste', 0):.1f}% |"
                     f" {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) |"
                     f" {statistics.median(cpu_ratios):.2f}x | {fmt_mib(mem)}{fmt_process(peer.get('process_memory', -1))}"
                     f" | {mem_ratio} |"
                     if ratios else " - | - | - | - | - | - |")
        out.append(line)
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"), help="the build directory")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--threads", type=int, default=0, help="threads for both sides (0: all cores)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--data", default="ss")
    p.add_argument("--models", default="seed,default,wide")
    p.add_argument("--layouts", default="packed,padded")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--warmup-epochs", type=int, default=1)
    p.add_argument("--synthetic-tokens", type=int, default=0)
    p.add_argument("--batch-rows", type=int, default=0)
    p.add_argument("--variants", default="", help="PyTorch variants: eager, eager-tf32, compile "
                   "(default: eager on cpu; eager, eager-tf32, compile on cuda)")
    p.add_argument("--no-peer", action="store_true", help="seqcnn only")
    p.add_argument("--python", default="/usr/bin/python3", help="a python with torch for the peer")
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "bench-e2e"))
    args = p.parse_args()
    args.e2e = os.path.join(args.build, "bench", "e2e", "seqcnn_bench_e2e")
    if not os.path.exists(args.e2e):
        raise SystemExit(f"run_e2e: {args.e2e} not found (build the project with -DSEQCNN_BENCH=ON)")
    variants = [] if args.no_peer else [v for v in (args.variants or (
        "eager" if args.device == "cpu" else "eager,eager-tf32,compile")).split(",") if v]
    os.makedirs(args.out, exist_ok=True)
    runs = os.path.join(args.out, "runs")

    configs = [(d, m, l) for d in args.data.split(",") for m in args.models.split(",")
               for l in args.layouts.split(",")]
    rows = {c: {"data": c[0], "model": c[1], "layout": c[2], "seqcnn": [], "seqcnn_cpu": [], "waste": 0.0,
                "seqcnn_memory": -1,
                "peer": {v: {"tokens_per_s": [], "ratios": [], "cpu_ratios": [], "memory": -1} for v in variants}}
            for c in configs}
    mem_key = memory_key(args.device)
    meta = {"device": args.device, "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": git_commit(), "threads": args.threads, "rounds": args.rounds, "epochs": args.epochs,
            "warmup_epochs": args.warmup_epochs, "peer_note": "", "raw": [], "load": [],
            "cpus": os.cpu_count()}
    for rnd in range(1, args.rounds + 1):
        for c in configs:
            data, model, layout = c
            row = rows[c]
            seqcnn_first = rnd % 2 == 1
            step = {}

            def seqcnn_side():
                res = run_seqcnn(args, data, model, layout, runs, os.path.join(args.out, "last-seqcnn.json"))
                step["seqcnn"] = res
                row["waste"] = res["padding_waste"]
                row["run_dir"] = res["run_dir"]
                row["parameters"] = res["parameters"]
                row["tokens_per_epoch"] = res["tokens_per_epoch"]

            def peer_side():
                for v in variants:
                    step[v] = run_peer(args, row["run_dir"], v)

            order = [seqcnn_side, peer_side] if seqcnn_first else [peer_side, seqcnn_side]
            load = [os.getloadavg()[0]]
            for side in order:
                side()
                load.append(os.getloadavg()[0])
            meta["load"].append(max(load))
            s = step["seqcnn"]["tokens_per_s"]
            row["seqcnn"].append(s)
            s_cpu = step["seqcnn"]["tokens_per_cpu_s"]
            row["seqcnn_cpu"].append(s_cpu)
            row["seqcnn_memory"] = max(row["seqcnn_memory"], step["seqcnn"].get(mem_key, -1))
            if args.device == "cpu":
                row["seqcnn_process_memory"] = max(row.get("seqcnn_process_memory", -1),
                                                   step["seqcnn"].get("peak_host_rss_bytes", -1))
            msg = f"round {rnd} {data}/{model}/{layout}: seqcnn {s:,.0f} tok/s"
            for v in variants:
                peer = step[v]
                slot = row["peer"][v]
                if not peer.get("available", True):
                    slot["available"] = False
                    msg += f", PyTorch {v} n/a"
                    continue
                slot["tokens_per_s"].append(peer["tokens_per_s"])
                slot["ratios"].append(s / peer["tokens_per_s"])
                slot["cpu_ratios"].append(s_cpu / peer["tokens_per_cpu_s"])
                slot["waste"] = peer["padding_waste"]
                slot["memory"] = max(slot["memory"], peer.get(mem_key, -1))
                if args.device == "cpu":
                    slot["process_memory"] = max(slot.get("process_memory", -1), peer.get("peak_host_rss_bytes", -1))
                meta["torch"] = peer["torch"]
                meta["peer_note"] = (f"{peer['threads']} intra-op threads, mkldnn {'on' if peer['mkldnn'] else 'off'}"
                                     + (f", GPU {peer['gpu']}" if peer.get("gpu") else ""))
                msg += f", PyTorch {v} {peer['tokens_per_s']:,.0f} tok/s ({s / peer['tokens_per_s']:.2f}x)"
            meta["raw"].append({"round": rnd, "config": list(c), "seqcnn_first": seqcnn_first, **step})
            print(msg, file=sys.stderr, flush=True)

    table = markdown(meta, list(rows.values()), variants)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"meta": meta, "rows": [{k: v for k, v in r.items()} for r in rows.values()],
                   "variants": variants}, f, indent=1)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
