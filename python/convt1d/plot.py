"""Charts of a `convt1d bench --json OUT.json` run.

    python -m convt1d.plot OUT.json [-o OUT.png]

Left panel: our speedup over cuDNN (the heuristic choice PyTorch makes by default; hatched bars: the
fastest algorithm cuDNN finds by measuring) per case, one bar per mode. Right panel: a roofline with
the measured copy bandwidth as the memory slope and the measured cuBLAS GEMM rates as compute ceilings;
each case is a point at its arithmetic intensity (FLOPs over the bytes that must move once).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

MODES = ("fp32-tf32", "fp32-ieee", "fp16", "bf16")
COLORS = {"fp32-tf32": "#1f77b4", "fp32-ieee": "#7f7f7f", "fp16": "#2ca02c", "bf16": "#d62728"}


def _num(value) -> float | None:
    """A finite positive number from the JSON, else None (missing, null, failed runs)."""
    if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
        return float(value)
    return None


def load(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise ValueError(f"{path}: not a `convt1d bench --json` file (no 'cases' list)")
    return data


def _speedup_panel(ax, data: dict) -> None:
    cases = data["cases"]
    ids = list(dict.fromkeys(c["id"] for c in cases))
    modes = [m for m in MODES if any(c.get("mode") == m for c in cases)]
    width = 0.8 / max(1, len(modes))
    plotted = False
    for j, mode in enumerate(modes):
        by_id = {c["id"]: c for c in cases if c.get("mode") == mode}
        xs = [i + (j - (len(modes) - 1) / 2) * width for i in range(len(ids))]
        heur = [_num(by_id.get(i, {}).get("speedup_vs_heuristic")) for i in ids]
        best = [_num(by_id.get(i, {}).get("speedup_vs_best")) for i in ids]
        if any(heur):
            ax.bar(xs, [v or 0 for v in heur], width * 0.9, color=COLORS[mode], label=f"{mode} vs cuDNN heuristic")
            plotted = True
        if any(best):
            ax.scatter([x for x, v in zip(xs, best) if v], [v for v in best if v], marker="_", s=120,
                       color="black", zorder=3, label="vs cuDNN best" if j == 0 else None)
            plotted = True
        for x, c in ((x, by_id.get(i)) for x, i in zip(xs, ids)):
            if c and c.get("ours", {}).get("status") not in (None, "ok"):
                ax.text(x, 0.05, c["ours"]["status"], rotation=90, ha="center", va="bottom", fontsize=7,
                        color="red")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(ids)))
    ax.set_xticklabels(ids, rotation=60 if len(ids) > 6 else 0, ha="right" if len(ids) > 6 else "center",
                       fontsize=8)
    ax.set_ylabel("speedup over cuDNN (x)")
    ax.set_title("ours vs cuDNN per case")
    if plotted:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no baseline in this run\n(" + str(data.get("cudnn", {}).get("info", "")) + ")",
                ha="center", va="center", transform=ax.transAxes, fontsize=9)


def _roofline_panel(ax, data: dict) -> None:
    cases = data["cases"]
    points = []  # (intensity, tflops, mode, marker-filled?)
    for c in cases:
        ai = _num(c.get("arithmetic_intensity"))
        if ai is None:
            continue
        ours = _num(c.get("ours", {}).get("tflops"))
        heur = _num(c.get("cudnn_heuristic", {}).get("tflops"))
        if ours:
            points.append((ai, ours, c.get("mode"), True))
        if heur:
            points.append((ai, heur, c.get("mode"), False))
    copy_gbps = _num(data.get("copy_gbps"))
    ceilings = {m: _num(data.get("gemm_tflops", {}).get(m)) for m in MODES}
    ais = [p[0] for p in points] or [1.0]
    lo, hi = min(ais) / 4, max(ais) * 4
    ys = [p[1] for p in points] + [v for v in ceilings.values() if v]
    if copy_gbps:
        grid = [lo * (hi / lo) ** (k / 200) for k in range(201)]
        ax.plot(grid, [a * copy_gbps / 1e3 for a in grid], color="black", linewidth=1.2,
                label=f"copy bandwidth {copy_gbps:.0f} GB/s")
        ys += [lo * copy_gbps / 1e3]
    for mode, peak in ceilings.items():
        if peak:
            ax.axhline(peak, color=COLORS[mode], linestyle="--", linewidth=1, label=f"cuBLAS {mode} {peak:.0f} TFLOP/s")
    for ai, tf, mode, filled in points:
        color = COLORS.get(mode, "black")
        ax.scatter([ai], [tf], color=color if filled else "none", edgecolors=color, s=30, zorder=3)
    for mode in MODES:
        if any(pt[2] == mode for pt in points):
            ax.scatter([], [], color=COLORS[mode], s=30, label=mode)
    ax.scatter([], [], color="gray", s=30, label="ours")
    ax.scatter([], [], color="none", edgecolors="gray", s=30, label="cuDNN heuristic")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    if ys:
        ax.set_ylim(min(ys) / 3, max(ys) * 3)
    ax.set_xlabel("arithmetic intensity (FLOP / byte moved once)")
    ax.set_ylabel("TFLOP/s")
    ax.set_title(f"roofline: {data.get('device', {}).get('name', '?')}")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(True, which="both", alpha=0.2)


def plot(data: dict, out: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 5.5))
    _speedup_panel(left, data)
    _roofline_panel(right, data)
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convt1d.plot", description=__doc__.split("\n\n")[0])
    parser.add_argument("json", help="output of `convt1d bench --json`")
    parser.add_argument("-o", "--output", help="PNG to write (default: the JSON's name with .png)")
    args = parser.parse_args(argv)
    try:
        data = load(args.json)
    except (OSError, ValueError) as e:  # json.JSONDecodeError is a ValueError
        print(f"convt1d.plot: {e}", file=sys.stderr)
        return 2
    out = plot(data, args.output or Path(args.json).with_suffix(".png"))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
