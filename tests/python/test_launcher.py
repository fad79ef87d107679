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


class _Marked(torch.Tensor):
    """A tensor subclass: no real memory guaranteed, so never the launcher's."""


@needs_launcher
@pytest.mark.parametrize("entry", ["functional", "module"])
def test_remembered_signature_defers_what_it_must(entry):
    """Once a signature is remembered, the launcher answers its plain eager calls itself; every other
    call with the same shapes (gradients, tracing, subclasses, int-like parameters) must still take the
    Python path that handles it."""
    ops._forget_signatures()
    torch.manual_seed(1)
    module = convt1d.nn.ConvTranspose1d(5, 4, 3, stride=2, padding=1).double()
    ref = torch.nn.ConvTranspose1d(5, 4, 3, stride=2, padding=1).double()
    ref.load_state_dict(module.state_dict())
    w, b = module.weight, module.bias

    def ours(x, stride=2, padding=1):
        if entry == "module":
            return module(x)
        return convt1d.conv_transpose1d(x, w, b, stride=stride, padding=padding)

    x = torch.randn(2, 5, 12, dtype=torch.float64)
    with torch.no_grad():
        first = ours(x)
        assert _launcher.module.known_count() == 1
        again = ours(x)  # the launcher's own answer
        assert torch.equal(first, again) and again.grad_fn is None
    # gradients: the autograd path
    xg = x.clone().requires_grad_(True)
    y = ours(xg)
    assert y.grad_fn is not None
    y.square().sum().backward()
    xr = x.clone().requires_grad_(True)
    ref(xr).square().sum().backward()
    torch.testing.assert_close(xg.grad, xr.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(w.grad, ref.weight.grad, rtol=1e-12, atol=1e-12)
    # a TorchScript trace must record the op, not a launcher result it cannot see
    with torch.no_grad():
        x2 = torch.randn(2, 5, 12, dtype=torch.float64)
        if entry == "module":
            traced = torch.jit.trace(module, x, check_trace=False)
            torch.testing.assert_close(traced(x2), ref(x2), rtol=1e-12, atol=1e-12)
        else:
            traced = torch.jit.trace(lambda a, ww, bb: convt1d.conv_transpose1d(a, ww, bb, stride=2, padding=1),
                                     (x, w.detach(), b.detach()), check_trace=False)
            torch.testing.assert_close(traced(x2, w.detach(), b.detach()), ref(x2), rtol=1e-12, atol=1e-12)
        # a subclass goes through the op; the values are the same
        torch.testing.assert_close(ours(x2.as_subclass(_Marked)).as_subclass(torch.Tensor), ref(x2),
                                   rtol=1e-12, atol=1e-12)
        if entry == "functional":  # parameters as 1-tuples: the checked path, same result
            torch.testing.assert_close(ours(x2, stride=(2,), padding=(1,)), ref(x2), rtol=1e-12, atol=1e-12)
            with pytest.raises(TypeError):
                ours(x2, stride=True)
