"""python -m convt1d.plot on a synthetic `convt1d bench --json` file (no GPU or native library needed)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from convt1d import plot  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _case(cid, mode, ours_ms, heur_ms, best_ms, bytes_, flops, status="ok"):
    def timing(ms, st="ok"):
        if ms is None:
            return {"status": "not run"}
        if st != "ok":
            return {"status": st, "check": "relative L2 error 1 > tolerance 0.002"}
        return {"status": "ok", "median_ms": ms, "min_ms": ms * 0.98, "max_ms": ms * 1.05,
                "tflops": flops / ms / 1e9, "gbps": bytes_ / ms / 1e6}

    ours = timing(ours_ms, status)
    ok = status == "ok"
    return {
        "id": cid, "model": "synthetic", "mode": mode,
        "problem": {"B": 1, "C_in": 4, "C_out": 4, "K": 3, "stride": 1, "padding": 0, "output_padding": 0,
                    "dilation": 1, "groups": 1, "L_in": 10, "L_out": 12, "bias": 0},
        "bytes": bytes_, "flops": flops, "arithmetic_intensity": flops / bytes_, "floor_ms": bytes_ / 3e9,
        "ours": ours, "cudnn_heuristic": timing(heur_ms), "cudnn_best": timing(best_ms),
        "speedup_vs_heuristic": heur_ms / ours_ms if ok and heur_ms else None,
        "speedup_vs_best": best_ms / ours_ms if ok and best_ms else None,
    }


def synthetic() -> dict:
    cases = []
    for mode, f in (("fp32-tf32", 1.0), ("fp32-ieee", 2.0), ("fp16", 0.6), ("bf16", 0.6)):
        cases.append(_case("KB74", mode, 0.6 * f, 2.1 * f, 1.9 * f, 1.61e9, 85.9e9))
        cases.append(_case("S1", mode, 0.02 * f, 0.05 * f, 0.03 * f, 3.0e6, 1.1e9))
        cases.append(_case("T7", mode, 0.3 * f, 0.4 * f, 0.35 * f, 2.0e8, 2.2e11))
    cases.append(_case("X1", "fp16", 1.0, 3.0, 2.5, 4e9, 1e11, status="FAIL"))
    return {"tool": "convt1d bench", "backend": "cuda", "device": {"name": "Synthetic H100"},
            "copy_gbps": 3000.0,
            "gemm_tflops": {"fp32-tf32": 400.0, "fp32-ieee": 51.0, "fp16": 700.0, "bf16": 710.0},
            "cudnn": {"available": True, "info": "cuDNN 9.19.0"}, "cases": cases}


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])


def test_plot_writes_a_two_panel_png(tmp_path):
    src = tmp_path / "run.json"
    src.write_text(json.dumps(synthetic()))
    out = plot.plot(plot.load(src), tmp_path / "run.png")
    w, h = _png_size(out)
    assert w > 1000 and h > 400  # two side-by-side panels
    assert out.stat().st_size > 20_000  # bars, lines and points, not an empty canvas


def test_plot_panels_hold_the_data():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = synthetic()
    fig, (left, right) = plt.subplots(1, 2)
    plot._speedup_panel(left, data)
    plot._roofline_panel(right, data)
    # 4 cases x 4 modes ... but X1 exists only in fp16 and failed: its bar is 0 with a FAIL label.
    heights = sorted(round(p.get_height(), 6) for p in left.patches)
    assert round(2.1 / 0.6, 6) in heights  # KB74 tf32 speedup vs the heuristic
    assert 0.0 in heights
    assert any(t.get_text() == "FAIL" for t in left.texts)
    assert [t.get_text() for t in left.get_xticklabels()] == ["KB74", "S1", "T7", "X1"]
    # roofline: memory line slope = copy bandwidth, ceilings at the GEMM rates
    line = right.lines[0]
    xs, ys = line.get_xdata(), line.get_ydata()
    assert ys[0] == pytest.approx(xs[0] * 3000.0 / 1e3)
    ceilings = sorted(round(float(l.get_ydata()[0]), 3) for l in right.lines[1:])
    assert ceilings == [51.0, 400.0, 700.0, 710.0]
    assert right.get_xscale() == "log" and right.get_yscale() == "log"
    plt.close(fig)


def test_cli_default_output_name_and_bad_input(tmp_path):
    src = tmp_path / "bench.json"
    src.write_text(json.dumps(synthetic()))
    env_path = str(ROOT / "python")
    run = subprocess.run([sys.executable, "-m", "convt1d.plot", str(src)], capture_output=True, text=True,
                         env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "bench.png").exists()

    bad = tmp_path / "bad.json"
    bad.write_text('{"no_cases": 1}')
    run = subprocess.run([sys.executable, "-m", "convt1d.plot", str(bad), "-o", str(tmp_path / "x.png")],
                         capture_output=True, text=True, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert run.returncode == 2
    assert "not a `convt1d bench --json` file" in run.stderr


def test_cpu_run_without_baseline_still_plots(tmp_path):
    data = synthetic()
    data["backend"] = "cpu"
    data["copy_gbps"] = None
    data["gemm_tflops"] = {}
    for c in data["cases"]:
        c["speedup_vs_heuristic"] = c["speedup_vs_best"] = None
        c["cudnn_heuristic"] = c["cudnn_best"] = {"status": "not run"}
    out = plot.plot(data, tmp_path / "cpu.png")
    assert _png_size(out)[0] > 1000
