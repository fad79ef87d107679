"""The torch.library custom op: opcheck, fake (meta) shapes, torch.compile, dispatch paths."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F

import convt1d
from convt1d import ops

OP = torch.ops.convt1d.conv_transpose1d.default


def _sample(requires_grad, bias=True, seed=0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 4, 7, generator=gen, dtype=dtype, requires_grad=requires_grad)
    w = torch.randn(4, 3, 3, generator=gen, dtype=dtype, requires_grad=requires_grad)
    b = torch.randn(6, generator=gen, dtype=dtype, requires_grad=requires_grad) if bias else None
    return x, w, b


@pytest.mark.parametrize(
    "args",
    [
        (*_sample(True), 2, 1, 1, 2, 1),
        (*_sample(True, bias=False), 1, 0, 0, 1, 2),
        (*_sample(False, seed=1, dtype=torch.float32), 3, 2, 2, 2, 2),
        (*_sample(True, seed=2), 4, 0, 3, 2, 3),
    ],
)
def test_opcheck(args):
    torch.library.opcheck(OP, args)


def test_fake_kernel_shape_on_meta():
    x = torch.empty(5, 6, 33, device="meta")
    w = torch.empty(6, 4, 7, device="meta")
    y = convt1d.conv_transpose1d(x, w, torch.empty(8, device="meta"), stride=3, padding=2, output_padding=1,
                                 groups=2, dilation=2)
    expected = F.conv_transpose1d(x, w, None, 3, 2, 1, 2, 2)
    assert y.device.type == "meta" and y.shape == expected.shape == (5, 8, 106)


def test_eager_paths_skip_the_dispatcher(monkeypatch):
    """In eager mode the custom op is bypassed: a direct call without grad, an autograd.Function
    sharing the op's backward with grad (both far cheaper per call)."""
    calls = []
    monkeypatch.setattr(ops, "_OP", lambda *a: calls.append(a) or OP(*a))
    x, w, b = _sample(False)
    y = convt1d.conv_transpose1d(x, w, b, groups=2)
    assert calls == [] and y.grad_fn is None
    x.requires_grad_(True)
    y = convt1d.conv_transpose1d(x, w, b, groups=2)
    assert calls == [] and type(y.grad_fn).__name__ == "_EagerAutogradBackward"
    with torch.no_grad():
        convt1d.conv_transpose1d(x, w, b, groups=2)
    assert calls == []
    # meta tensors (and tensor subclasses) take the op
    convt1d.conv_transpose1d(x.to("meta"), w.to("meta"), b.to("meta"), groups=2)
    assert len(calls) == 1


def test_eager_and_custom_op_gradients_agree():
    x, w, b = _sample(True, seed=4)
    args = (2, 1, 1, 2, 1)
    y_eager = convt1d.conv_transpose1d(x, w, b, *args)
    y_op = OP(x, w, b, *args)
    assert torch.equal(y_eager, y_op)
    g = torch.randn_like(y_op)
    for a, r in zip(torch.autograd.grad(y_eager, (x, w, b), g), torch.autograd.grad(y_op, (x, w, b), g)):
        assert torch.equal(a, r)


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.up = convt1d.nn.ConvTranspose1d(4, 6, 5, stride=2, padding=1, output_padding=1, groups=2)
        self.act = torch.nn.LeakyReLU(0.1)

    def forward(self, x):
        return self.act(self.up(x))


def test_compile_fullgraph_inductor():
    """Inductor on the CPU (needs a C++ compiler; the first compile takes ~30 s on 2 cores)."""
    torch.manual_seed(0)
    net = _Net().eval()
    x = torch.randn(2, 4, 16)
    compiled = torch.compile(net, fullgraph=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), net(x), rtol=1e-6, atol=1e-6)
        # the custom op runs the library, whose result matches PyTorch's
        ref = F.leaky_relu(F.conv_transpose1d(x, net.up.weight, net.up.bias, 2, 1, 1, 2), 0.1)
        torch.testing.assert_close(compiled(x), ref, rtol=1e-5, atol=1e-5)


def test_compile_fullgraph_aot_eager_with_backward():
    torch.manual_seed(1)
    net = _Net().double()
    x = torch.randn(2, 4, 9, dtype=torch.float64, requires_grad=True)
    compiled = torch.compile(net, fullgraph=True, backend="aot_eager")
    y = compiled(x)
    y.square().sum().backward()
    grads = [x.grad.clone()] + [p.grad.clone() for p in net.parameters()]
    x.grad = None
    net.zero_grad()
    ref_net = torch.nn.Sequential(torch.nn.ConvTranspose1d(4, 6, 5, stride=2, padding=1, output_padding=1,
                                                           groups=2).double(), torch.nn.LeakyReLU(0.1))
    ref_net.load_state_dict({"0.weight": net.up.weight, "0.bias": net.up.bias})
    y_ref = ref_net(x)
    y_ref.square().sum().backward()
    torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-12)
    ref_grads = [x.grad] + [p.grad for p in ref_net.parameters()]
    for a, r in zip(grads, ref_grads):
        torch.testing.assert_close(a, r, rtol=1e-10, atol=1e-10)


def test_the_op_checks_its_arguments_too():
    # The op (what torch.compile calls) validates like the functional: a bias of the wrong length is
    # a clear error, not a read past its end.
    x, w, _ = _sample(False, seed=3, dtype=torch.float32)
    with pytest.raises(ValueError, match="bias must be 1-D of length out_channels"):
        OP(x, w, torch.zeros(7), 1, 0, 0, 1, 1)


@pytest.mark.parametrize("grad", [False, True])
def test_jit_trace_records_the_op(grad):
    """torch.jit.trace sees the custom op, not the library call it cannot record (it once traced an
    empty output and replayed uninitialised memory)."""
    torch.manual_seed(0)
    module = convt1d.nn.ConvTranspose1d(4, 3, 3, stride=2, padding=1).double()
    ref = torch.nn.ConvTranspose1d(4, 3, 3, stride=2, padding=1).double()
    ref.load_state_dict(module.state_dict())
    x = torch.randn(2, 4, 10, dtype=torch.float64)
    with torch.set_grad_enabled(grad), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        traced = torch.jit.trace(module, x)
        traced_fn = torch.jit.trace(lambda a, w: convt1d.conv_transpose1d(a, w, None, 2), (x, module.weight))
    # The argument checks read traced shapes; the recorded op checks again when the trace runs.
    tracer_warnings = [w for w in caught if issubclass(w.category, torch.jit.TracerWarning)]
    assert not tracer_warnings, [str(w.message) for w in tracer_warnings]
    assert "convt1d::conv_transpose1d" in str(traced.graph)
    x2 = torch.randn(2, 4, 10, dtype=torch.float64)  # new values: a traced constant cannot match
    with torch.set_grad_enabled(grad):
        torch.testing.assert_close(traced(x2), ref(x2), rtol=1e-12, atol=1e-12)
        expected = F.conv_transpose1d(x2, module.weight, None, 2)
        torch.testing.assert_close(traced_fn(x2, module.weight), expected, rtol=1e-12, atol=1e-12)
        with pytest.raises(RuntimeError, match="x has 5 channels"):
            traced(torch.randn(2, 5, 10, dtype=torch.float64))
