"""convt1d.conv_transpose1d against PyTorch's conv_transpose1d (fp64 reference) on the CPU backend."""

from __future__ import annotations

import pytest
import torch

import convt1d
from conftest import make_inputs, random_cases, reference, rel_err

FP64_CASES = random_cases(seed=1234, count=200)
FP32_CASES = random_cases(seed=5678, count=150)


def _check_case(case, dtype, rel_tol, abs_tol, seed):
    x, w, b = make_inputs(case, dtype, seed=seed)
    y = convt1d.conv_transpose1d(x, w, b, **case.kwargs())
    ref = reference(x, w, b, **case.kwargs())
    expected_shape = (case.out_channels, case.out_length()) if case.batch < 0 else \
        (case.batch, case.out_channels, case.out_length())
    assert tuple(y.shape) == expected_shape
    assert tuple(ref.shape) == expected_shape
    assert y.dtype == dtype and y.device == x.device and y.is_contiguous()
    if y.numel() == 0:
        return
    assert not torch.isnan(y).any(), "output has NaN"
    # Inputs are never all-zero, so a kernel that writes nothing cannot pass.
    assert ref.abs().max() > 0
    err = (y.double() - ref).abs().max().item()
    assert err <= abs_tol * (1 + ref.abs().max().item()), f"max abs error {err} for {case}"
    assert rel_err(y, ref) <= rel_tol, f"relative error {rel_err(y, ref)} for {case}"


@pytest.mark.parametrize("index", range(len(FP64_CASES)))
def test_parity_fp64(index):
    _check_case(FP64_CASES[index], torch.float64, rel_tol=1e-13, abs_tol=1e-13, seed=index)


@pytest.mark.parametrize("index", range(len(FP32_CASES)))
def test_parity_fp32(index):
    # fp32 output of an fp64-accumulated sum: error ~ one rounding of each output
    _check_case(FP32_CASES[index], torch.float32, rel_tol=1e-6, abs_tol=1e-6, seed=1000 + index)


def test_cases_cover_the_parameter_space():
    cases = FP64_CASES + FP32_CASES
    assert any(c.groups > 1 for c in cases)
    assert any(c.dilation > 1 for c in cases)
    assert max(c.stride for c in cases) == 8
    assert max(c.kernel_size for c in cases) == 9
    assert any(c.padding > 0 for c in cases)
    assert any(c.output_padding > 0 for c in cases)
    assert any(c.bias for c in cases) and any(not c.bias for c in cases)
    assert any(c.batch < 0 for c in cases) and any(c.batch == 0 for c in cases)
    assert any(c.length % 2 == 1 for c in cases)
    assert any(c.noncontiguous for c in cases)


def test_matches_torch_fp32_directly():
    """Same fp32 inputs, both libraries in fp32: equal within fp32 accumulation noise."""
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(3, 8, 50, generator=gen)
    w = torch.randn(8, 3, 5, generator=gen)
    b = torch.randn(6, generator=gen)
    y = convt1d.conv_transpose1d(x, w, b, stride=3, padding=2, output_padding=1, groups=2, dilation=2)
    t = torch.nn.functional.conv_transpose1d(x, w, b, stride=3, padding=2, output_padding=1, groups=2,
                                             dilation=2)
    torch.testing.assert_close(y, t, rtol=1e-5, atol=1e-5)


def test_tuple_parameters_equal_int_parameters():
    x = torch.randn(2, 4, 9, dtype=torch.float64)
    w = torch.randn(4, 3, 3, dtype=torch.float64)
    a = convt1d.conv_transpose1d(x, w, stride=(2,), padding=[1], output_padding=(1,), groups=(1,), dilation=(2,))
    b = convt1d.conv_transpose1d(x, w, stride=2, padding=1, output_padding=1, groups=1, dilation=2)
    assert torch.equal(a, b)


def test_empty_batch_returns_empty_output():
    x = torch.randn(0, 4, 9)
    w = torch.randn(4, 2, 3)
    y = convt1d.conv_transpose1d(x, w, torch.randn(2), stride=2)
    assert y.shape == (0, 2, 19)


def test_transposed_weight_view_is_accepted():
    """weight given as a non-contiguous view is made contiguous, like x."""
    x = torch.randn(2, 4, 11, dtype=torch.float64)
    w = torch.randn(3, 2, 4, dtype=torch.float64).permute(2, 1, 0)  # (4, 2, 3), strided
    assert not w.is_contiguous()
    y = convt1d.conv_transpose1d(x, w, stride=2)
    torch.testing.assert_close(y, reference(x, w, None, stride=2), rtol=1e-13, atol=1e-13)


def test_inference_mode_and_no_grad():
    x = torch.randn(2, 4, 9, dtype=torch.float64)
    w = torch.randn(4, 3, 3, dtype=torch.float64, requires_grad=True)
    with torch.no_grad():
        y = convt1d.conv_transpose1d(x, w)
    assert not y.requires_grad
    with torch.inference_mode():
        y2 = convt1d.conv_transpose1d(x, w)
    torch.testing.assert_close(y, y2, rtol=0, atol=0)
    torch.testing.assert_close(y, reference(x, w, None), rtol=1e-13, atol=1e-13)


def test_fp16_and_bf16_on_cpu():
    """The CPU backend also takes 16-bit inputs (fp64 accumulation, one rounding at the end)."""
    for dtype, tol in ((torch.float16, 2e-3), (torch.bfloat16, 1e-2)):
        x = torch.randn(2, 6, 17).to(dtype)
        w = torch.randn(6, 2, 5).to(dtype)
        b = torch.randn(6).to(dtype)
        y = convt1d.conv_transpose1d(x, w, b, stride=2, groups=3, padding=1)
        assert y.dtype == dtype
        assert rel_err(y, reference(x, w, b, stride=2, groups=3, padding=1)) < tol


@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs",
    [
        ((1, 3, 1), (3, 1, 1), {}),                        # output (1, 1, 1)
        ((1, 3, 4), (3, 1, 2), dict(stride=2)),            # output (1, 1, 9)
        ((1, 2, 1), (2, 5, 3), {}),                        # output (1, 5, 3)
        ((4, 2, 1), (2, 1, 1), {}),                        # output (4, 1, 1)
        ((2, 1), (2, 3, 1), {}),                           # unbatched, output (3, 1)
    ],
)
def test_outputs_with_unit_dimensions_are_contiguous(x_shape, w_shape, kwargs):
    # The output is allocated by empty_like of a broadcast template (ops._Signature.template); where
    # dimensions of size 1 make that template look dense, the result must still be laid out as the
    # library writes it. Poisoned first: a result taken from stale memory cannot match.
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(*x_shape, generator=gen, dtype=torch.float64)
    w = torch.randn(*w_shape, generator=gen, dtype=torch.float64)
    torch.full((4096,), float("nan"), dtype=torch.float64)  # leaves NaN in freed memory for reuse
    y = convt1d.conv_transpose1d(x, w, **kwargs)
    ref = torch.nn.functional.conv_transpose1d(x, w, **kwargs)
    assert y.shape == ref.shape and y.is_contiguous()
    torch.testing.assert_close(y, ref, rtol=1e-13, atol=1e-13)
    # Twice: the second call reuses the remembered signature and its template.
    torch.testing.assert_close(convt1d.conv_transpose1d(x, w, **kwargs), ref, rtol=1e-13, atol=1e-13)
