"""Shared helpers for the convt1d Python tests: random problems and the fp64 reference."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Case:
    batch: int  # -1 means unbatched (C_in, L) input
    in_channels: int
    out_channels: int
    length: int
    kernel_size: int
    stride: int
    padding: int
    output_padding: int
    dilation: int
    groups: int
    bias: bool
    noncontiguous: bool

    def kwargs(self) -> dict:
        return dict(stride=self.stride, padding=self.padding, output_padding=self.output_padding,
                    groups=self.groups, dilation=self.dilation)

    def out_length(self) -> int:
        return ((self.length - 1) * self.stride - 2 * self.padding + self.dilation * (self.kernel_size - 1)
                + self.output_padding + 1)


def random_cases(seed: int, count: int, max_stride: int = 8, max_kernel: int = 9, max_length: int = 40) -> list[Case]:
    """Valid problems covering groups, dilation, stride, padding, output_padding, bias, unbatched,
    empty batch, odd lengths and non-contiguous inputs."""
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        groups = rng.choice([1, 1, 1, 2, 3, 4])
        in_channels = groups * rng.randint(1, 4)
        out_channels = groups * rng.randint(1, 4)
        kernel_size = rng.randint(1, max_kernel)
        stride = rng.randint(1, max_stride)
        dilation = rng.choice([1, 1, 2, 3, 4])
        output_padding = rng.randint(0, max(stride, dilation) - 1)
        length = rng.randint(1, max_length)
        # largest padding that still leaves an output of length >= 1
        pad_limit = ((length - 1) * stride + dilation * (kernel_size - 1) + output_padding) // 2
        padding = rng.randint(0, min(pad_limit, 6))
        batch = rng.choice([-1, 0, 1, 1, 2, 3])
        cases.append(Case(batch, in_channels, out_channels, length, kernel_size, stride, padding,
                          output_padding, dilation, groups, rng.random() < 0.5, rng.random() < 0.3))
    return cases


def make_inputs(case: Case, dtype: torch.dtype, device="cpu", seed: int = 0):
    """x, weight, bias for a case; x is a strided view when case.noncontiguous."""
    gen = torch.Generator().manual_seed(seed)
    shape = (case.in_channels, case.length) if case.batch < 0 else (case.batch, case.in_channels, case.length)
    if case.noncontiguous:
        # every other element along the length of a wider tensor: non-unit innermost stride
        wide = torch.randn(*shape[:-1], 2 * case.length, generator=gen, dtype=torch.float64)
        x = wide.to(dtype=dtype, device=device)[..., ::2]
        assert not x.is_contiguous() or x.numel() <= 1
    else:
        x = torch.randn(*shape, generator=gen, dtype=torch.float64).to(dtype=dtype, device=device)
    w = torch.randn(case.in_channels, case.out_channels // case.groups, case.kernel_size, generator=gen,
                    dtype=torch.float64).to(dtype=dtype, device=device)
    b = torch.randn(case.out_channels, generator=gen, dtype=torch.float64).to(dtype=dtype, device=device) \
        if case.bias else None
    return x, w, b


def reference(x, w, b, **kwargs) -> torch.Tensor:
    """PyTorch's conv_transpose1d in fp64 on the CPU, from the same (already rounded) inputs."""
    return F.conv_transpose1d(x.detach().cpu().double(), w.detach().cpu().double(),
                              None if b is None else b.detach().cpu().double(), **kwargs)


def rel_err(y: torch.Tensor, ref: torch.Tensor) -> float:
    y = y.detach().cpu().double()
    ref = ref.detach().cpu().double()
    denom = ref.norm().item()
    return (y - ref).norm().item() / denom if denom > 0 else (y - ref).norm().item()


def cuda_ready() -> tuple[bool, str]:
    if not torch.cuda.is_available():
        return False, "no CUDA device visible to torch (torch.cuda.is_available() is False)"
    from convt1d import _lib

    if _lib.cuda_device_count() == 0:
        return False, "libconvt1d sees no CUDA device (built without CUDA or no driver)"
    return True, ""


_ready, _why = cuda_ready()
requires_cuda = pytest.mark.skipif(not _ready, reason=_why or "CUDA available")


def captured(module, x, warmups: int = 2):
    """module(x) without gradients captured in a CUDA graph after warm-up calls on a side stream (as torch
    asks): (graph, the captured output)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.no_grad(), torch.cuda.stream(side):
        for _ in range(warmups):
            module(x)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.no_grad(), torch.cuda.graph(graph):
        y = module(x)
    return graph, y


def set_fp32_math(tf32: bool) -> None:
    """Selects TF32 or IEEE fp32 convolutions the way the running torch prefers: the newer
    cudnn.conv.fp32_precision where it exists (mixing it with allow_tf32 makes torch refuse to read
    allow_tf32 later), else allow_tf32."""
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None:
        conv.fp32_precision = "tf32" if tf32 else "ieee"
    else:
        torch.backends.cudnn.allow_tf32 = tf32


@pytest.fixture
def restore_cudnn_flags():
    """Puts torch's TF32 switches back however a test changed them."""
    cudnn = torch.backends.cudnn
    conv = getattr(cudnn, "conv", None)
    saved = (cudnn.fp32_precision, conv.fp32_precision, cudnn.rnn.fp32_precision) if conv is not None else None
    try:
        saved_allow = cudnn.allow_tf32
    except RuntimeError:  # torch refuses once the legacy and new APIs were mixed
        saved_allow = None
    yield
    if saved is not None:
        # the cuDNN-wide setting propagates to conv and rnn, so it goes first
        cudnn.fp32_precision, conv.fp32_precision, cudnn.rnn.fp32_precision = saved
    elif saved_allow is not None:
        cudnn.allow_tf32 = saved_allow


@pytest.fixture
def library_calls(monkeypatch):
    """The x shapes of the calls that reach the library (convt1d.ops._run), in order: tells one call for
    all samples (a vmap rule) from one per sample (functorch's fallback), or the op from another path."""
    from convt1d import ops

    calls = []
    run = ops._run

    def counted(*args):
        calls.append(args[0].shape)
        return run(*args)

    monkeypatch.setattr(ops, "_run", counted)
    return calls
