"""Frozen weights (ConvTranspose1d.freeze_weight, convt1d.freeze_weights): the weights packed once and
read by later calls; the outputs must stay the unfrozen module's, and every change torch records must
reach them. The CUDA tests need a device whose plans pack fp32 weights (Hopper) for their packed
buffers; elsewhere they check that the frozen module computes what the unfrozen one does.
"""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

import convt1d
from conftest import captured, reference, rel_err, requires_cuda, set_fp32_math

TOL = {True: 5e-3, False: 1e-5}  # TF32, IEEE: rel. error against the fp64 reference


def _layer(cin=256, cout=128, k=8, stride=4, padding=2, bias=True, seed=0):
    torch.manual_seed(seed)
    return convt1d.nn.ConvTranspose1d(cin, cout, k, stride=stride, padding=padding, bias=bias)


def test_freeze_and_unfreeze_on_the_cpu():
    m = _layer(cin=6, cout=4, k=4, stride=2, padding=1)
    x = torch.randn(2, 6, 9, dtype=torch.float32)
    before = m(x)
    assert not m.weight_frozen
    assert m.freeze_weight() is m and m.weight_frozen
    torch.testing.assert_close(m(x), before, rtol=0, atol=0)  # (the CPU packs nothing: the usual path)
    assert m.unfreeze_weight() is m and not m.weight_frozen
    assert m.unfreeze_weight() is m  # (unfreezing twice is harmless)


def test_a_copy_of_a_frozen_module_is_frozen_without_its_buffers():
    m = _layer(cin=6, cout=4, k=4, stride=2, padding=1).freeze_weight()
    m._convt1d_packed.buffers[1] = torch.empty(3)
    for other in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert other.weight_frozen
        assert other._convt1d_packed.buffers == {}
        torch.testing.assert_close(other.weight, m.weight)
    assert set(m.state_dict()) == {"weight", "bias"}


def test_freeze_weights_reaches_every_convt1d_module():
    model = torch.nn.Sequential(_layer(cin=6, cout=4, k=4), torch.nn.ReLU(),
                                torch.nn.Sequential(_layer(cin=4, cout=2, k=2)),
                                torch.nn.ConvTranspose1d(2, 2, 3))
    assert convt1d.freeze_weights(model) is model
    frozen = [m.weight_frozen for m in model.modules() if isinstance(m, convt1d.nn.ConvTranspose1d)]
    assert frozen == [True, True]
    assert not hasattr(model[3], "weight_frozen")  # torch's own module is left alone
    convt1d.freeze_weights(model, frozen=False)
    assert not any(m.weight_frozen for m in model.modules() if isinstance(m, convt1d.nn.ConvTranspose1d))
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got int"):
        convt1d.freeze_weights(3)
    with pytest.raises(TypeError, match="frozen must be a bool, got str"):
        convt1d.freeze_weights(model, frozen="yes")


def _packs_weights(m, x, tf32: bool) -> bool:
    """Whether this device's plan for the call packs fp32 weights (Hopper's tap-major kernel)."""
    from convt1d import _lib, ops

    sig = ops._signature(x, m.weight, m.bias, m.stride[0], m.padding[0], 0, 1, 1)
    return _lib.packed_weight_layout(sig.problems[_lib.MATH_TF32 if tf32 else _lib.MATH_IEEE]).bytes > 0


@requires_cuda
@pytest.mark.parametrize("tf32", [True, False])
def test_frozen_outputs_equal_the_unfrozen_ones(tf32, restore_cudnn_flags):
    set_fp32_math(tf32)
    m = _layer().cuda()
    x = torch.randn(2, 256, 300, device="cuda")
    with torch.no_grad():
        expected = m(x)
        m.freeze_weight()
        got = [m(x), m(x)]
        # another length of the same layer: same layout, so the same buffer
        x2 = torch.randn(256, 77, device="cuda")  # (unbatched)
        got2 = m(x2)
    for y in got:
        torch.testing.assert_close(y, expected, rtol=0, atol=0)
    assert rel_err(got2, reference(x2, m.weight, m.bias, stride=4, padding=2)) < TOL[tf32]
    if _packs_weights(m, x, tf32):
        assert len(m._convt1d_packed.buffers) == 1


@requires_cuda
def test_changes_torch_records_are_repacked(restore_cudnn_flags):
    set_fp32_math(True)
    m = _layer().cuda().freeze_weight()
    x = torch.randn(2, 256, 300, device="cuda")

    def check(what):
        with torch.no_grad():
            y = m(x)
        assert rel_err(y, reference(x, m.weight, m.bias, stride=4, padding=2)) < TOL[True], what

    check("first call")
    with torch.no_grad():
        m.weight.mul_(-2.0)  # in place: the version counter moves
    check("in-place write")
    m.load_state_dict({"weight": torch.randn_like(m.weight), "bias": m.bias.detach().clone()})
    check("load_state_dict")
    m.weight = torch.nn.Parameter(torch.randn_like(m.weight))  # another Parameter
    check("new Parameter")
    # .data bypasses the version counter: documented as unseen until freeze_weight() again
    with torch.no_grad():
        before = m(x)
    m.weight.data.mul_(3.0)
    with torch.no_grad():
        stale = m(x)
    if _packs_weights(m, x, True):
        torch.testing.assert_close(stale, before, rtol=0, atol=0)
    m.freeze_weight()
    check("freeze_weight() after a .data write")


@requires_cuda
def test_gradients_take_the_usual_path(restore_cudnn_flags):
    set_fp32_math(True)
    m = _layer().cuda().freeze_weight()
    x = torch.randn(2, 256, 300, device="cuda", requires_grad=True)
    y = m(x)
    assert y.requires_grad
    y.square().sum().backward()
    assert x.grad is not None and m.weight.grad is not None
    assert rel_err(y.detach(), reference(x, m.weight, m.bias, stride=4, padding=2)) < TOL[True]
    assert m._convt1d_packed.buffers == {}  # nothing packed for a call that records gradients


@requires_cuda
def test_cuda_graph_reads_the_packed_weights(restore_cudnn_flags):
    set_fp32_math(True)
    m = _layer().cuda().freeze_weight()
    x = torch.randn(2, 256, 300, device="cuda")
    graph, y = captured(m, x, warmups=1)  # (the warm-up call packs the weights)
    for seed in (1, 2):
        x.copy_(torch.randn(x.shape, generator=torch.Generator().manual_seed(seed)).cuda())
        y.fill_(float("nan"))
        graph.replay()
        torch.cuda.synchronize()
        assert rel_err(y, reference(x, m.weight, m.bias, stride=4, padding=2)) < TOL[True]
    # a change torch records, then an eager call: repacked in place, which the graph then reads
    with torch.no_grad():
        m.weight.mul_(0.5)
        m(x)
    graph.replay()
    torch.cuda.synchronize()
    assert rel_err(y, reference(x, m.weight, m.bias, stride=4, padding=2)) < TOL[True]


@requires_cuda
def test_compile_takes_the_op(restore_cudnn_flags):
    set_fp32_math(True)
    m = _layer().cuda().freeze_weight()
    x = torch.randn(2, 256, 300, device="cuda")
    compiled = torch.compile(m, fullgraph=True)
    with torch.no_grad():
        y = compiled(x)
    assert rel_err(y, reference(x, m.weight, m.bias, stride=4, padding=2)) < TOL[True]


def test_the_launcher_answers_frozen_calls_that_pack_nothing():
    from convt1d import _launcher

    if _launcher.module is None:
        pytest.skip("the C++ launcher is not built")
    m = _layer(cin=6, cout=4, k=4, stride=2, padding=1).freeze_weight()
    x = torch.randn(2, 6, 9)
    with torch.no_grad():
        m(x)  # (the signature's first call is remembered)
        y = _launcher.module.module_call(m, x)  # (the CPU packs nothing)
        assert y is not None
        torch.testing.assert_close(y, m.unfreeze_weight()(x), rtol=0, atol=0)


@requires_cuda
def test_the_launcher_takes_frozen_calls_once_packed(restore_cudnn_flags):
    from convt1d import _launcher

    if _launcher.module is None:
        pytest.skip("the C++ launcher is not built")
    set_fp32_math(True)
    m = _layer(seed=3).cuda().freeze_weight()
    x = torch.randn(2, 256, 300, device="cuda")
    if not _packs_weights(m, x, True):
        pytest.skip("this device's plan packs no weights for the layer")
    with torch.no_grad():
        assert _launcher.module.module_call(m, x) is None  # nothing packed yet: Python packs
        first = m(x)
        again = _launcher.module.module_call(m, x)
        assert again is not None
        torch.testing.assert_close(again, first, rtol=0, atol=0)
        m.weight.mul_(2.0)
        assert _launcher.module.module_call(m, x) is None  # the version moved: Python repacks
        doubled = m(x)
        torch.testing.assert_close(_launcher.module.module_call(m, x), doubled, rtol=0, atol=0)
    assert rel_err(doubled, reference(x, m.weight, m.bias, stride=4, padding=2)) < TOL[True]


@requires_cuda
def test_weights_made_in_inference_mode_run_unpacked(restore_cudnn_flags):
    """Inference tensors have no version counter: a frozen module made under torch.inference_mode
    must run (unpacked), not fail reading one."""
    set_fp32_math(True)
    with torch.inference_mode():
        m = _layer(seed=5).cuda()
    assert m.weight.is_inference()
    m.freeze_weight()
    x = torch.randn(2, 256, 300, device="cuda")
    with torch.inference_mode():
        ys = [m(x), m(x), m(x)]  # (the first through Python, the rest through the launcher)
    for y in ys:
        assert rel_err(y, reference(x, m.weight, m.bias, stride=4, padding=2)) < TOL[True]
    assert m._convt1d_packed.buffers == {}
