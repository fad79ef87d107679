"""CUDA: parity by dtype and math mode, random shapes, stream and device handling, gradients.

Every test here skips (with the reason) when torch or the library sees no CUDA device.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import convt1d
from conftest import captured, make_inputs, random_cases, reference, rel_err, requires_cuda, set_fp32_math

pytestmark = requires_cuda

# relative-error bounds (||y - ref|| / ||ref|| against fp64) by dtype / fp32 mode
TOL = {"tf32": 5e-3, "ieee": 1e-5, torch.float16: 5e-3, torch.bfloat16: 3e-2, torch.float64: 1e-12}

HEADLINE = dict(batch=4, cin=32, cout=64, length=4096, k=5, stride=1, padding=0, dilation=3)


def _headline(dtype, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 32, 4096, generator=gen).to("cuda", dtype)
    w = torch.randn(32, 64, 5, generator=gen).to("cuda", dtype)
    return x, w


@pytest.mark.parametrize("mode", ["tf32", "ieee"])
def test_fp32_modes(mode, restore_cudnn_flags):
    set_fp32_math(mode == "tf32")
    x, w = _headline(torch.float32)
    y = convt1d.conv_transpose1d(x, w, dilation=3)
    err = rel_err(y, reference(x, w, None, dilation=3))
    assert not torch.isnan(y).any()
    assert err < TOL[mode], f"{mode}: relative error {err}"
    if mode == "ieee":
        assert err < 1e-5


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_other_dtypes(dtype):
    x, w = _headline(dtype)
    b = torch.randn(64, device="cuda").to(dtype)
    y = convt1d.conv_transpose1d(x, w, b, dilation=3)
    assert y.dtype == dtype and y.device == x.device
    assert rel_err(y, reference(x, w, b, dilation=3)) < TOL[dtype]


CUDA_CASES = random_cases(seed=99, count=60, max_length=300)


@pytest.mark.parametrize("index", range(len(CUDA_CASES)))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_random_shapes(index, dtype, restore_cudnn_flags):
    case = CUDA_CASES[index]
    set_fp32_math(index % 2 == 0)  # both fp32 modes across the cases
    x, w, b = make_inputs(case, dtype, device="cuda", seed=index)
    y = convt1d.conv_transpose1d(x, w, b, **case.kwargs())
    ref = reference(x, w, b, **case.kwargs())
    assert y.shape == ref.shape and y.device == x.device
    if y.numel() == 0:
        return
    assert not torch.isnan(y).any()
    tol = TOL[("tf32" if index % 2 == 0 else "ieee") if dtype == torch.float32 else dtype]
    assert rel_err(y, ref) < tol, f"{dtype} {case}: {rel_err(y, ref)}"


def test_uses_the_current_stream():
    """Work queued on a side stream must be ordered before our kernel: if the library ran on another
    stream it would read x before the copy that follows the sleep lands."""
    x, w = _headline(torch.float32)
    x_new = torch.randn_like(x)
    side = torch.cuda.Stream()
    torch.cuda.synchronize()
    with torch.cuda.stream(side):
        torch.cuda._sleep(100_000_000)  # ~ tens of ms: keeps the stream busy
        x.copy_(x_new)
        y = convt1d.conv_transpose1d(x, w, dilation=3)
    side.synchronize()
    assert rel_err(y, reference(x_new, w, None, dilation=3)) < TOL["tf32"]


def test_device_index_and_current_device():
    x, w = _headline(torch.float32)
    before = torch.cuda.current_device()
    y = convt1d.conv_transpose1d(x.to(f"cuda:{before}"), w.to(f"cuda:{before}"), dilation=3)
    assert y.device == torch.device("cuda", before)
    assert torch.cuda.current_device() == before


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA devices")
def test_non_default_device_guard():
    with torch.cuda.device(0):
        x, w = _headline(torch.float64)
        x1, w1 = x.to("cuda:1"), w.to("cuda:1")
        y = convt1d.conv_transpose1d(x1, w1, dilation=3)
        assert y.device == torch.device("cuda", 1)
        assert torch.cuda.current_device() == 0
    assert rel_err(y, reference(x, w, None, dilation=3)) < TOL[torch.float64]
    with pytest.raises(ValueError, match="weight"):
        convt1d.conv_transpose1d(x, w1)


def test_cpu_x_with_cuda_weight_is_rejected():
    with pytest.raises(ValueError, match="weight.*cuda"):
        convt1d.conv_transpose1d(torch.randn(1, 4, 8), torch.randn(4, 2, 3, device="cuda"))


def test_gradients_on_cuda():
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2, 8, 50, generator=gen, dtype=torch.float64).cuda().requires_grad_(True)
    w = torch.randn(8, 3, 5, generator=gen, dtype=torch.float64).cuda().requires_grad_(True)
    b = torch.randn(6, generator=gen, dtype=torch.float64).cuda().requires_grad_(True)
    kw = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=2)
    y = convt1d.conv_transpose1d(x, w, b, **kw)
    g = torch.randn_like(y)
    ours = torch.autograd.grad(y, (x, w, b), g)
    theirs = torch.autograd.grad(F.conv_transpose1d(x, w, b, **kw), (x, w, b), g)
    for a, r in zip(ours, theirs):
        torch.testing.assert_close(a, r, rtol=1e-10, atol=1e-10)


def test_module_and_compile_on_cuda():
    torch.manual_seed(0)
    m = convt1d.nn.ConvTranspose1d(16, 32, 5, stride=2, padding=2, output_padding=1).cuda().double()
    ref = torch.nn.ConvTranspose1d(16, 32, 5, stride=2, padding=2, output_padding=1).cuda().double()
    ref.load_state_dict(m.state_dict())
    x = torch.randn(2, 16, 100, device="cuda", dtype=torch.float64)
    compiled = torch.compile(m, fullgraph=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), ref(x), rtol=1e-10, atol=1e-10)


# Layers for graph capture: KB74-like (streaming kernel), a B=1 vocoder layer whose 16-bit reduction is
# split across SMs (stream-ordered workspace), a large-channel layer (wgmma, TF32 packing + dependent
# launch).
GRAPH_LAYERS = [
    dict(batch=2, cin=32, cout=64, k=5, stride=1, padding=0, dilation=3, length=4096),
    dict(batch=1, cin=512, cout=256, k=16, stride=8, padding=4, dilation=1, length=32),
    dict(batch=2, cin=256, cout=128, k=8, stride=4, padding=2, dilation=1, length=128),
]


@pytest.mark.parametrize("layer", range(len(GRAPH_LAYERS)))
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_cuda_graph_capture_and_replay(layer, dtype, restore_cudnn_flags):
    """The module captured in a CUDA graph (torch.cuda.graph) and replayed on new input values: the
    replay must compute from the static input's current contents into the captured output."""
    set_fp32_math(True)
    c = GRAPH_LAYERS[layer]
    torch.manual_seed(layer)
    m = convt1d.nn.ConvTranspose1d(c["cin"], c["cout"], c["k"], stride=c["stride"], padding=c["padding"],
                                   dilation=c["dilation"]).cuda().to(dtype)
    x = torch.randn(c["batch"], c["cin"], c["length"], device="cuda", dtype=dtype)
    graph, y = captured(m, x)
    for seed in (10, 11):
        x.copy_(torch.randn(x.shape, generator=torch.Generator().manual_seed(seed)).to("cuda", dtype))
        y.fill_(float("nan"))
        graph.replay()
        torch.cuda.synchronize()
        ref = reference(x, m.weight, m.bias, stride=c["stride"], padding=c["padding"], dilation=c["dilation"])
        assert not torch.isnan(y).any()
        assert rel_err(y, ref) < TOL["tf32" if dtype == torch.float32 else dtype], (layer, dtype, seed)
