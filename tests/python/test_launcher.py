"""The C++ eager launcher (python/convt1d/_launch.cpp) against the ctypes path: same library, same
results to the bit, same errors; and present wherever the test scripts built it."""

from __future__ import annotations

import ctypes
import os

import pytest
import torch

import convt1d
from convt1d import _launcher, _lib, ops
from conftest import cuda_ready, make_inputs, random_cases

needs_launcher = pytest.mark.skipif(
    _launcher.launch is None, reason=f"C++ launcher unavailable: {_launcher.unavailable_reason}"
)
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not cuda_ready()[0], reason=cuda_ready()[1]))]
CASES = random_cases(seed=4242, count=24)


def test_launcher_present_when_built():
    if os.environ.get("CONVT1D_LAUNCHER") != "1":
        pytest.skip("CONVT1D_LAUNCHER=1 not set (scripts/test.sh sets it when it built the launcher)")
    assert _launcher.launch is not None and ops._call is ops._call_launcher


@needs_launcher
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("index", range(len(CASES)))
def test_paths_agree(index, device, monkeypatch):
    case = CASES[index]
    dtype = torch.float64 if device == "cpu" else torch.float32
    x, w, b = make_inputs(case, dtype, device=device, seed=index)
    results = []
    for _ in range(2):  # the first call remembers the signature, the second takes the C++ lookup
        results.append(convt1d.conv_transpose1d(x, w, b, **case.kwargs()))
    monkeypatch.setattr(ops, "_fast_call", None)
    monkeypatch.setattr(ops, "_call", ops._call_ctypes)
    results.append(convt1d.conv_transpose1d(x, w, b, **case.kwargs()))
    first, launcher, plain = results
    assert torch.equal(first, launcher), case
    assert launcher.shape == plain.shape and launcher.dtype == plain.dtype and launcher.device == plain.device
    assert launcher.is_contiguous()
    assert torch.equal(launcher, plain), case


@needs_launcher
def test_launcher_raises_the_library_message():
    problem = _lib.Problem(1, 4, 4, 8, 3, 1, 0, 0, 1, 1, 0, _lib.DTYPE_FLOAT64, _lib.MATH_IEEE, _lib.DEVICE_CPU,
                           _lib.ALGO_AUTO)
    problem.dilation = 0
    x, w = torch.randn(1, 4, 8, dtype=torch.float64), torch.randn(4, 4, 3, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="dilation"):
        _launcher.launch(ctypes.addressof(problem), x, w, None, 10, 0)


def _settings():
    """The switches the math rule reads, in the order a program might set them."""
    cudnn = torch.backends.cudnn
    yield "default"
    cudnn.allow_tf32 = False
    yield "allow_tf32 False"
    cudnn.allow_tf32 = True
    yield "allow_tf32 True"
    conv = getattr(cudnn, "conv", None)
    if conv is not None:
        for precision in ("ieee", "tf32", "none"):
            conv.fp32_precision = precision
            yield f"conv.fp32_precision {precision} (APIs mixed)"


@needs_launcher
def test_launcher_reads_the_math_switches_as_python_does(restore_cudnn_flags):
    # The C++ fast path picks TF32 or IEEE itself (no device needed to read the switches).
    for setting in _settings():
        assert _launcher.module.cuda_fp32_math() == ops._cuda_fp32_math(), setting


def test_threads_share_the_remembered_signatures():
    """CPU calls release the GIL while they compute, so other threads look up and remember signatures
    meanwhile; every result must still be right (run on whichever path is built)."""
    import threading

    gen = torch.Generator().manual_seed(3)
    problems = []
    for length in (40, 41, 300):
        x = torch.randn(2, 6, length, generator=gen, dtype=torch.float64)
        w = torch.randn(6, 5, 7, generator=gen, dtype=torch.float64)
        problems.append((x, w, torch.nn.functional.conv_transpose1d(x, w, stride=3, dilation=2)))
    failures = []

    def work(offset):
        for i in range(60):
            x, w, ref = problems[(i + offset) % len(problems)]
            y = convt1d.conv_transpose1d(x, w, stride=3, dilation=2)
            if not torch.allclose(y, ref, rtol=1e-12, atol=1e-12):
                failures.append((offset, i))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
