"""torch.func transforms (vmap, grad, jvp, jacrev) and forward-mode AD (torch.autograd.forward_ad)
over convt1d's functional op and module: the same results as torch's conv_transpose1d under the same
transform, on first and repeated calls (a remembered signature must not let a call past the transform)."""

from __future__ import annotations

import pytest
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F
from torch.func import grad, jacrev, jvp, vmap

import convt1d
import convt1d.nn
from conftest import cuda_ready, set_fp32_math
from convt1d import ops

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not cuda_ready()[0], reason=cuda_ready()[1]))]
PARAMS = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=2)
REPEATS = 3  # the first call remembers the signature; the later ones would take the C++ fast path


def _dtype(device: str) -> torch.dtype:
    return torch.float64 if device == "cpu" else torch.float32  # (CUDA fp32 in IEEE mode, see tol)


def _tol(device: str) -> dict:
    return dict(rtol=1e-10, atol=1e-10) if device == "cpu" else dict(rtol=1e-4, atol=1e-4)


@pytest.fixture
def ieee(restore_cudnn_flags):
    set_fp32_math(False)  # CUDA fp32 as IEEE on both sides (torch's cuDNN and convt1d read the same switch)


def _inputs(device, samples=3, batch=2, c_in=4, c_out=6, length=9, k=3):
    gen = torch.Generator().manual_seed(7)
    dtype = _dtype(device)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64).to(device=device, dtype=dtype)

    x = rand(samples, batch, c_in, length)
    w = rand(c_in, c_out // PARAMS["groups"], k)
    b = rand(c_out)
    return x, w, b


@pytest.mark.parametrize("device", DEVICES)
def test_vmap_over_inputs_batched_and_unbatched(device, ieee):
    ops._forget_signatures()
    x, w, b = _inputs(device)
    for _ in range(REPEATS):
        got = vmap(lambda xx: convt1d.conv_transpose1d(xx, w, b, **PARAMS))(x)
        torch.testing.assert_close(got, vmap(lambda xx: F.conv_transpose1d(xx, w, b, **PARAMS))(x), **_tol(device))
        # per-sample unbatched (C, L) inputs, mapped along dimension 1 of a (batch, samples, C, L) stack
        xt = x.transpose(0, 1)
        got = vmap(lambda xx: convt1d.conv_transpose1d(xx, w, b, **PARAMS), in_dims=1)(xt)
        ref = vmap(lambda xx: F.conv_transpose1d(xx, w, b, **PARAMS), in_dims=1)(xt)
        torch.testing.assert_close(got, ref, **_tol(device))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("groups", [1, 2])
def test_vmap_over_per_sample_weights_and_bias(device, groups, ieee, library_calls):
    params = dict(PARAMS, groups=groups)  # (the samples become groups of one call: groups * 3 of them)
    x, w, b = _inputs(device)
    if groups == 1:  # (C_in, C_out, K) for the same 6 outputs
        w = torch.cat([w, -w.flip(2)], 1)
    ws = torch.stack([w, 2 * w, -w])
    bs = torch.stack([b, b + 1, -b])
    for in_dims in [(0, 0, 0), (None, 0, None), (0, None, 0), (1, 0, None)]:
        xx = x if in_dims[0] == 0 else x.transpose(0, 1) if in_dims[0] == 1 else x[0]
        args = (xx, ws if in_dims[1] == 0 else w, bs if in_dims[2] == 0 else b)
        got = vmap(lambda xx, ww, bb: convt1d.conv_transpose1d(xx, ww, bb, **params), in_dims=in_dims)(*args)
        ref = vmap(lambda xx, ww, bb: F.conv_transpose1d(xx, ww, bb, **params), in_dims=in_dims)(*args)
        torch.testing.assert_close(got, ref, **_tol(device))
    library_calls.clear()
    got = vmap(lambda xx, ww: convt1d.conv_transpose1d(xx, ww, None, **params))(x, ws)  # no bias
    torch.testing.assert_close(got, vmap(lambda xx, ww: F.conv_transpose1d(xx, ww, None, **params))(x, ws),
                               **_tol(device))
    assert len(library_calls) == 1  # every sample in one grouped call
    # per-sample gradients of per-sample weights (meta-learning, ensembles)
    def loss(conv):
        return lambda ww, xx: conv(xx, ww, b, **params).pow(2).sum()

    got = vmap(grad(loss(convt1d.conv_transpose1d)))(ws, x)
    torch.testing.assert_close(got, vmap(grad(loss(F.conv_transpose1d)))(ws, x), **_tol(device))


@pytest.mark.parametrize("device", DEVICES)
def test_vmap_of_the_module_and_of_the_op(device, ieee, library_calls):
    x, _, _ = _inputs(device)
    torch.manual_seed(0)
    ours = convt1d.nn.ConvTranspose1d(4, 6, 3, **PARAMS).to(device=device, dtype=_dtype(device))
    ref = torch.nn.ConvTranspose1d(4, 6, 3, **PARAMS).to(device=device, dtype=_dtype(device))
    ref.load_state_dict(ours.state_dict())
    for _ in range(REPEATS):  # parameters require grad: the autograd.Function's vmap rule
        torch.testing.assert_close(vmap(ours)(x), vmap(ref)(x), **_tol(device))
    with torch.no_grad():
        for _ in range(REPEATS):
            torch.testing.assert_close(vmap(ours)(x), vmap(ref)(x), **_tol(device))
    op = torch.ops.convt1d.conv_transpose1d
    library_calls.clear()
    got = vmap(lambda xx: op(xx, ours.weight, ours.bias, 2, 1, 1, 2, 2))(x)
    torch.testing.assert_close(got, vmap(ref)(x), **_tol(device))
    assert library_calls == [(x.shape[0] * x.shape[1],) + x.shape[2:]]  # the op's rule: one call


@pytest.mark.parametrize("device", DEVICES)
def test_grad_and_per_sample_gradients(device, ieee):
    x, w, b = _inputs(device)

    def loss(conv):
        return lambda ww, bb, xx: conv(xx, ww, bb, **PARAMS).pow(2).sum()

    for _ in range(REPEATS):
        for argnums in (0, 1, 2):
            got = grad(loss(convt1d.conv_transpose1d), argnums=argnums)(w, b, x[0])
            ref = grad(loss(F.conv_transpose1d), argnums=argnums)(w, b, x[0])
            torch.testing.assert_close(got, ref, **_tol(device))
        got = vmap(grad(loss(convt1d.conv_transpose1d)), in_dims=(None, None, 0))(w, b, x)
        ref = vmap(grad(loss(F.conv_transpose1d)), in_dims=(None, None, 0))(w, b, x)
        torch.testing.assert_close(got, ref, **_tol(device))


@pytest.mark.parametrize("device", DEVICES)
def test_jvp_and_jacobians(device, ieee):
    x, w, b = _inputs(device, samples=1, batch=1, length=5)
    x = x[0]
    tangents = tuple(torch.randn_like(t) for t in (x, w, b))
    for _ in range(REPEATS):
        got = jvp(lambda xx, ww, bb: convt1d.conv_transpose1d(xx, ww, bb, **PARAMS), (x, w, b), tangents)
        ref = jvp(lambda xx, ww, bb: F.conv_transpose1d(xx, ww, bb, **PARAMS), (x, w, b), tangents)
        torch.testing.assert_close(got, ref, **_tol(device))
        for only in range(3):  # one tangent at a time, the bias alone included
            def f(t, ours):
                args = [x, w, b]
                args[only] = t
                return (convt1d.conv_transpose1d if ours else F.conv_transpose1d)(*args, **PARAMS)

            got = jvp(lambda t: f(t, True), ((x, w, b)[only],), (tangents[only],))
            ref = jvp(lambda t: f(t, False), ((x, w, b)[only],), (tangents[only],))
            torch.testing.assert_close(got, ref, **_tol(device))
        got = jacrev(lambda ww: convt1d.conv_transpose1d(x, ww, b, **PARAMS))(w)
        torch.testing.assert_close(got, jacrev(lambda ww: F.conv_transpose1d(x, ww, b, **PARAMS))(w), **_tol(device))


@pytest.mark.parametrize("device", DEVICES)
def test_forward_ad_dual_tensors(device, ieee):
    x, w, b = _inputs(device)
    x = x[0]
    tx, tw, tb = (torch.randn_like(t) for t in (x, w, b))
    torch.manual_seed(0)
    module = convt1d.nn.ConvTranspose1d(4, 6, 3, **PARAMS).to(device=device, dtype=_dtype(device))
    with torch.no_grad():
        for _ in range(REPEATS):
            convt1d.conv_transpose1d(x, w, b, **PARAMS)  # remembered outside the dual level
            module(x)
            with fwAD.dual_level():
                got = convt1d.conv_transpose1d(fwAD.make_dual(x, tx), fwAD.make_dual(w, tw),
                                               fwAD.make_dual(b, tb), **PARAMS)
                ref = F.conv_transpose1d(fwAD.make_dual(x, tx), fwAD.make_dual(w, tw), fwAD.make_dual(b, tb),
                                         **PARAMS)
                got, ref = fwAD.unpack_dual(got), fwAD.unpack_dual(ref)
                assert got.tangent is not None
                torch.testing.assert_close(got.primal, ref.primal, **_tol(device))
                torch.testing.assert_close(got.tangent, ref.tangent, **_tol(device))
                y = fwAD.unpack_dual(module(fwAD.make_dual(x, tx)))
                ref = fwAD.unpack_dual(F.conv_transpose1d(fwAD.make_dual(x, tx), module.weight, module.bias,
                                                          **PARAMS))
                assert y.tangent is not None
                torch.testing.assert_close(y.tangent, ref.tangent, **_tol(device))


def test_compiled_vmap_takes_the_ops_rule():
    # torch.compile traces the custom op, so vmap inside a compiled function meets the op's vmap rule.
    x, w, b = _inputs("cpu")
    compiled = torch.compile(vmap(lambda xx: convt1d.conv_transpose1d(xx, w, b, **PARAMS)), backend="eager")
    ref = vmap(lambda xx: F.conv_transpose1d(xx, w, b, **PARAMS))(x)
    torch.testing.assert_close(compiled(x), ref, **_tol("cpu"))
