"""Gradients: gradcheck in fp64 and equality with PyTorch's own backward."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import convt1d

GRAD_CASES = [
    # (batch, C_in, C_out, L, K, stride, padding, output_padding, groups, dilation, bias)
    (2, 4, 6, 5, 3, 2, 1, 1, 2, 1, True),
    (1, 3, 2, 4, 2, 1, 0, 0, 1, 2, True),
    (2, 2, 4, 3, 4, 3, 2, 2, 2, 2, False),
    (-1, 3, 3, 4, 3, 2, 1, 0, 3, 1, True),  # unbatched, depthwise
]


def _inputs(case, requires_grad=True, seed=0):
    batch, cin, cout, length, k, s, p, op, g, d, has_bias = case
    gen = torch.Generator().manual_seed(seed)
    shape = (cin, length) if batch < 0 else (batch, cin, length)
    x = torch.randn(*shape, generator=gen, dtype=torch.float64, requires_grad=requires_grad)
    w = torch.randn(cin, cout // g, k, generator=gen, dtype=torch.float64, requires_grad=requires_grad)
    b = torch.randn(cout, generator=gen, dtype=torch.float64, requires_grad=requires_grad) if has_bias else None
    return x, w, b, dict(stride=s, padding=p, output_padding=op, groups=g, dilation=d)


@pytest.mark.parametrize("case", GRAD_CASES)
def test_gradcheck(case):
    x, w, b, kw = _inputs(case)
    inputs = (x, w) if b is None else (x, w, b)
    assert torch.autograd.gradcheck(lambda *t: convt1d.conv_transpose1d(*t, **kw), inputs)


@pytest.mark.parametrize("case", GRAD_CASES)
def test_gradients_equal_torch(case):
    x, w, b, kw = _inputs(case, seed=3)
    y = convt1d.conv_transpose1d(x, w, b, **kw)
    grad = torch.randn_like(y)
    ours = torch.autograd.grad(y, [t for t in (x, w, b) if t is not None], grad)
    y_ref = F.conv_transpose1d(x, w, b, **kw)
    theirs = torch.autograd.grad(y_ref, [t for t in (x, w, b) if t is not None], grad)
    torch.testing.assert_close(y, y_ref, rtol=1e-13, atol=1e-13)
    for a, r in zip(ours, theirs):
        torch.testing.assert_close(a, r, rtol=1e-12, atol=1e-12)


def test_only_weight_requires_grad():
    x, w, b, kw = _inputs(GRAD_CASES[0], requires_grad=False)
    w.requires_grad_(True)
    y = convt1d.conv_transpose1d(x, w, b, **kw)
    assert y.requires_grad
    y.sum().backward()
    assert w.grad is not None and x.grad is None and b.grad is None
    w_ref = w.detach().clone().requires_grad_(True)
    F.conv_transpose1d(x, w_ref, b, **kw).sum().backward()
    torch.testing.assert_close(w.grad, w_ref.grad, rtol=1e-12, atol=1e-12)


def test_noncontiguous_grad_and_input():
    x_wide = torch.randn(2, 4, 18, dtype=torch.float64)
    x = x_wide[..., ::2].requires_grad_(True)
    w = torch.randn(4, 3, 3, dtype=torch.float64, requires_grad=True)
    y = convt1d.conv_transpose1d(x, w, stride=2)
    grad = torch.randn(y.shape[0], y.shape[2], y.shape[1], dtype=torch.float64).transpose(1, 2)
    gx, gw = torch.autograd.grad(y, (x, w), grad)
    rx, rw = torch.autograd.grad(F.conv_transpose1d(x, w, stride=2), (x, w), grad)
    torch.testing.assert_close(gx, rx, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gw, rw, rtol=1e-12, atol=1e-12)
