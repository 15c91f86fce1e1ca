#!/usr/bin/env python3
"""Training tokens/s against model width, seqcnn and PyTorch side by side.

Reads results.json files written by bench/e2e/run_e2e.py for a width sweep
(--models width:32,width:64,...), one per device, and draws tokens/s (log
scale) against the channels of the two conv layers, one line per side and
device, with the seqcnn/PyTorch ratio written above each point.

  bench/plot_width.py --results runs/bench-width-cpu/results.json \\
      [--results runs/bench-width-cuda/results.json] --out docs/benchmarks-width.svg

Needs matplotlib (Debian's /usr/bin/python3 has it).
"""
import argparse
import json
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def width_points(results, layout):
    """{side: [(width, tokens_per_s)]} and the per-width ratios, for one layout."""
    series, ratios = {"seqcnn": []}, {}
    for row in results["rows"]:
        if row["layout"] != layout or not row["model"].startswith("width:"):
            continue
        width = int(row["model"].split(":")[1])
        series["seqcnn"].append((width, statistics.median(row["seqcnn"])))
        for variant, peer in row["peer"].items():
            if peer.get("tokens_per_s"):
                series.setdefault(f"PyTorch {variant}", []).append((width, statistics.median(peer["tokens_per_s"])))
                if variant in ("eager", "eager-tf32") and variant not in ratios.get(width, {}):
                    ratios.setdefault(width, {})[variant] = statistics.median(peer["ratios"])
    return {k: sorted(v) for k, v in series.items() if v}, ratios


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", action="append", required=True, help="a run_e2e.py results.json (repeatable)")
    p.add_argument("--layout", default="packed")
    p.add_argument("--out", required=True, help="an .svg or .png file")
    args = p.parse_args()

    plt.rcParams["svg.hashsalt"] = "seqcnn"  # stable ids: the file changes only when the data does
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    markers = {"seqcnn": "o", "PyTorch eager": "s", "PyTorch eager-tf32": "^", "PyTorch compile": "D"}
    notes = []
    for path in args.results:
        with open(path) as f:
            results = json.load(f)
        meta = results["meta"]
        device = meta["device"]
        series, ratios = width_points(results, args.layout)
        style = "-" if device == "cpu" else "--"
        for name, points in series.items():
            xs, ys = zip(*points)
            ax.plot(xs, ys, style, marker=markers.get(name, "x"), label=f"{name} ({device})")
        if "seqcnn" in series:
            for width, tps in series["seqcnn"]:
                ratio = ratios.get(width, {}).get("eager")
                if ratio:
                    ax.annotate(f"{ratio:.1f}x", (width, tps), textcoords="offset points", xytext=(0, 7),
                                ha="center", fontsize=8)
        notes.append(f"{device}: {meta['date'][:10]}, commit {meta['commit']}, threads {meta['threads'] or 'all'}, "
                     f"PyTorch {meta.get('torch', '?')}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("channels of each conv layer (2 layers, kernel 11; the default preset is 128)")
    ax.set_ylabel("training tokens/s (real residues)")
    ax.set_title(f"Training throughput against model width ({args.layout} batches, bundled protein data)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.text(0.01, 0.01, "; ".join(notes) + ". Labels: seqcnn / PyTorch eager.", fontsize=7)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(args.out, metadata={"Date": None} if args.out.endswith(".svg") else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
