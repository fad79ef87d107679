"""The PyTorch-level benchmark's whole-stack mode builds each model's upsampling stack from the suite:
consecutive layers must chain (no GPU needed)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from convt1d import bench  # noqa: E402


@pytest.mark.parametrize("model, ids", [("HiFiGAN-V1", ["S1", "S2", "S3", "S4"]), ("DAC-44k", ["S8", "S9", "S10", "S11"])])
def test_stack_is_the_inference_layers_in_order(model, ids):
    layers = bench.stack_layers(bench.load_suite(bench.DEFAULT_SUITE), model)
    assert [r["id"] for r in layers] == ids
    for a, b in zip(layers, layers[1:]):
        assert a["C_out"] == b["C_in"]


def test_stack_that_does_not_chain_is_refused():
    rows = bench.load_suite(bench.DEFAULT_SUITE)
    broken = [dict(r, C_in=r["C_in"] + 1) if r["id"] == "S2" else r for r in rows]
    with pytest.raises(SystemExit, match="S1 gives 256 channels, S2 takes 257"):
        bench.stack_layers(broken, "HiFiGAN-V1")
