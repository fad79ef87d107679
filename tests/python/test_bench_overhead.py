"""The PyTorch-level benchmark's host-overhead probe: every path into the library is timed on the same
problem and gives the same answer (runs on the CPU backend here, on CUDA where there is one)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from convt1d import bench  # noqa: E402


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device visible to torch"))])
def test_every_path_is_timed(device):
    r = bench.host_overhead(device, calls=20)
    for key in ("c_abi_us", "functional_us", "module_us", "torch_module_us"):
        assert math.isfinite(r[key]) and r[key] > 0, (key, r)
    assert r["python_layer_us"] == pytest.approx(r["module_us"] - r["c_abi_us"])


def test_overhead_flag_runs_only_the_probe(capsys):
    assert bench.main(["--overhead", "--repeats", "50"]) == 0
    out = capsys.readouterr().out
    assert "C ABI convt1d_forward" in out and "the Python layer" in out
    assert "KB74" not in out, "the headline case must not run alongside the probe unless asked for"
