"""convt1d.nn.ConvTranspose1d, ModelNew and convert() against torch.nn.ConvTranspose1d."""

from __future__ import annotations

import pytest
import torch

import convt1d
from convt1d.nn import ConvTranspose1d, ModelNew

CONFIGS = [
    dict(in_channels=4, out_channels=6, kernel_size=3),
    dict(in_channels=4, out_channels=6, kernel_size=5, stride=3, padding=2, output_padding=1, groups=2,
         dilation=2),
    dict(in_channels=3, out_channels=3, kernel_size=4, stride=2, groups=3, bias=False),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_module_matches_torch(config):
    torch.manual_seed(0)
    ours = ConvTranspose1d(**config).double()
    torch.manual_seed(0)
    ref = torch.nn.ConvTranspose1d(**config).double()
    for a, b in zip(ours.parameters(), ref.parameters()):
        assert torch.equal(a, b)
    x = torch.randn(2, config["in_channels"], 13, dtype=torch.float64)
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ours(x[0]), ref(x[0]), rtol=1e-12, atol=1e-12)


def test_state_dict_round_trip_both_ways():
    config = CONFIGS[1]
    ours = ConvTranspose1d(**config)
    ref = torch.nn.ConvTranspose1d(**config)
    assert ours.state_dict().keys() == ref.state_dict().keys()
    ref.load_state_dict(ours.state_dict())
    for k, v in ours.state_dict().items():
        assert torch.equal(ref.state_dict()[k], v)
    ref2 = torch.nn.ConvTranspose1d(**config)
    ours2 = ConvTranspose1d(**config)
    ours2.load_state_dict(ref2.state_dict())
    for k, v in ref2.state_dict().items():
        assert torch.equal(ours2.state_dict()[k], v)
    x = torch.randn(2, 4, 10)
    torch.testing.assert_close(ours2(x), ref2(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("output_size", [[21], [22], [23], (2, 6, 22), torch.Size([2, 6, 23])])
def test_output_size_like_torch(output_size):
    torch.manual_seed(0)
    ref = torch.nn.ConvTranspose1d(4, 6, 3, stride=3, padding=1, dilation=2).double()
    ours = ConvTranspose1d(4, 6, 3, stride=3, padding=1, dilation=2).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(2, 4, 7, dtype=torch.float64)
    y = ours(x, output_size=output_size)
    assert y.shape[-1] == list(output_size)[-1]
    torch.testing.assert_close(y, ref(x, output_size=output_size), rtol=1e-12, atol=1e-12)


def test_output_size_out_of_range_raises_like_torch():
    ref = torch.nn.ConvTranspose1d(4, 6, 3, stride=3)
    ours = ConvTranspose1d(4, 6, 3, stride=3)
    x = torch.randn(1, 4, 7)
    with pytest.raises(ValueError) as theirs:
        ref(x, output_size=[30])
    with pytest.raises(ValueError) as mine:
        ours(x, output_size=[30])
    assert str(mine.value) == str(theirs.value)


def test_padding_mode_other_than_zeros_raises():
    with pytest.raises(ValueError, match="padding mode"):  # torch's constructor check, inherited
        ConvTranspose1d(4, 6, 3, padding_mode="reflect")
    m = ConvTranspose1d(4, 6, 3)
    m.padding_mode = "circular"  # set after construction, bypassing the constructor's check
    with pytest.raises(ValueError, match="padding_mode"):
        m(torch.randn(1, 4, 5))


def test_module_is_a_torch_conv_transpose():
    m = ConvTranspose1d(2, 2, 3)
    assert isinstance(m, torch.nn.ConvTranspose1d)


@pytest.mark.parametrize("bias", [False, True])
def test_model_new_matches_seeded_reference(bias):
    args = (32, 64, 5)
    kwargs = dict(stride=1, padding=0, dilation=3)
    torch.manual_seed(42)
    ours = ModelNew(*args, **kwargs, bias=bias)
    torch.manual_seed(42)
    ref = torch.nn.ConvTranspose1d(*args, **kwargs, bias=bias)
    assert torch.equal(ours.conv1d_transpose.weight, ref.weight)
    assert (ours.conv1d_transpose.bias is None) == (not bias)
    if bias:
        assert torch.equal(ours.conv1d_transpose.bias, ref.bias)
    x = torch.randn(2, 32, 64)
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-5, atol=1e-5)
    assert set(ours.state_dict()) == {"conv1d_transpose." + k for k in ref.state_dict()}


def test_model_new_is_exported_at_top_level():
    assert convt1d.ModelNew is ModelNew
    assert convt1d.ConvTranspose1d is ConvTranspose1d


class _TorchSubclass(torch.nn.ConvTranspose1d):
    """A user subclass: convert() must leave it alone."""


def test_convert_sequential_in_place():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.ConvTranspose1d(4, 8, 4, stride=2, padding=1),
        torch.nn.LeakyReLU(0.2),
        torch.nn.ConvTranspose1d(8, 2, 3, stride=2, output_padding=1, dilation=2, bias=False),
        _TorchSubclass(2, 2, 1),
    ).double()
    params = [p for p in model.parameters()]
    x = torch.randn(3, 4, 11, dtype=torch.float64)
    with torch.no_grad():
        before = model(x)
    returned = convt1d.convert(model)
    assert returned is model
    assert type(model[0]) is ConvTranspose1d and type(model[2]) is ConvTranspose1d
    assert type(model[3]) is _TorchSubclass
    assert all(a is b for a, b in zip(model.parameters(), params))
    assert all(p.dtype == torch.float64 and p.device.type == "cpu" for p in model.parameters())
    with torch.no_grad():
        after = model(x)
    torch.testing.assert_close(after, before, rtol=1e-12, atol=1e-12)
    # a second convert is a no-op
    convt1d.convert(model)
    assert type(model[0]) is ConvTranspose1d


def test_convert_module_itself_and_rejects_non_modules():
    m = torch.nn.ConvTranspose1d(2, 3, 3)
    assert convt1d.convert(m) is m and type(m) is ConvTranspose1d
    with pytest.raises(TypeError, match="model"):
        convt1d.convert("not a model")


@pytest.mark.parametrize("style", ["parametrizations", "legacy"])
def test_weight_norm_like_torch(style):
    # BigVGAN, HiFi-GAN and DAC wrap their upsamplers in weight_norm: the weight is then computed (a
    # parametrization property, or an attribute a forward pre-hook sets), not a registered parameter.
    # The module must read it through the attribute, and the gradients must reach g and v.
    def build(cls):
        torch.manual_seed(0)
        m = cls(4, 6, 5, stride=2, padding=1).double()
        if style == "parametrizations":
            return torch.nn.utils.parametrizations.weight_norm(m)
        with pytest.warns(FutureWarning):
            return torch.nn.utils.weight_norm(m)

    ours, ref = build(ConvTranspose1d), build(torch.nn.ConvTranspose1d)
    assert "weight" not in ours._parameters
    x = torch.randn(2, 4, 11, dtype=torch.float64)
    y, y_ref = ours(x), ref(x)
    torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-12)
    y.square().sum().backward()
    y_ref.square().sum().backward()
    for (name, a), (_, b) in zip(ours.named_parameters(), ref.named_parameters()):
        assert a.grad is not None, name
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-10, atol=1e-10)
    with torch.no_grad():  # and again after an update of the weight-norm parameters
        for a, b in zip(ours.parameters(), ref.parameters()):
            a.mul_(1.5)
            b.mul_(1.5)
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-12, atol=1e-12)


def test_module_without_bias_passes_none():
    torch.manual_seed(0)
    ours = ConvTranspose1d(4, 6, 3, bias=False).double()
    assert "bias" in ours._parameters and ours._parameters["bias"] is None
    x = torch.randn(1, 4, 7, dtype=torch.float64)
    torch.testing.assert_close(ours(x), torch.nn.functional.conv_transpose1d(x, ours.weight), rtol=1e-12, atol=1e-12)


def test_hooks_run_around_the_fast_call():
    """The module skips nn.Module's call machinery only when there is nothing for it to do: forward
    pre-hooks, forward hooks, global hooks and backward hooks all still run."""
    torch.manual_seed(0)
    ours = ConvTranspose1d(4, 6, 3, stride=2).double()
    ref = torch.nn.ConvTranspose1d(4, 6, 3, stride=2).double()
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(2, 4, 9, dtype=torch.float64)
    seen = []
    handles = [
        ours.register_forward_pre_hook(lambda m, args: (args[0] * 2,)),
        ours.register_forward_hook(lambda m, args, out: out + 1),
        torch.nn.modules.module.register_module_forward_hook(lambda m, args, out: seen.append(m is ours)),
    ]
    try:
        y = ours(x)
        assert seen == [True]
        torch.testing.assert_close(y, ref(x * 2) + 1, rtol=1e-12, atol=1e-12)
    finally:
        for h in handles:
            h.remove()
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-12, atol=1e-12)
    assert seen == [True, False]  # the global hook saw ref's call, then was removed
    grads = []
    handle = ours.register_full_backward_hook(lambda m, gin, gout: grads.append(gout[0].shape))
    try:
        ours(x.requires_grad_(True)).sum().backward()
    finally:
        handle.remove()
    assert grads == [torch.Size([2, 6, 19])]


def test_module_compile_method():
    """module.compile() replaces the call path (nn.Module._compiled_call_impl); the fast call defers."""
    torch.manual_seed(0)
    ours = ConvTranspose1d(4, 6, 3, stride=2).double()
    ref = torch.nn.ConvTranspose1d(4, 6, 3, stride=2).double()
    ref.load_state_dict(ours.state_dict())
    ours.compile(backend="aot_eager", fullgraph=True)
    x = torch.randn(2, 4, 9, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), rtol=1e-12, atol=1e-12)
    assert ours._compiled_call_impl is not None


def test_torch_jit_script_runs_the_op(library_calls):
    # TorchScript compiles forward's scripted branch, which calls the registered op (the eager path is
    # not TorchScript): same values as torch's module, batched, unbatched and with output_size, through
    # the library (counted at ops._run), and the eager model is left as it was.
    calls = library_calls
    torch.manual_seed(0)
    config = dict(stride=2, padding=1, groups=2, dilation=2)
    ours = ConvTranspose1d(4, 6, 3, **config).double()
    ref = torch.nn.ConvTranspose1d(4, 6, 3, **config).double()
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(2, 4, 10, dtype=torch.float64)
    scripted = torch.jit.script(ours)
    with torch.no_grad():
        torch.testing.assert_close(scripted(x), ref(x), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(scripted(x[0]), ref(x[0]), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(scripted(x, [2, 6, 22]), ref(x, [2, 6, 22]), rtol=1e-12, atol=1e-12)
    assert len(calls) == 3
    with pytest.raises(Exception, match="valid sizes"):
        scripted(x, [2, 6, 30])
    model = ModelNew(4, 6, 3, stride=2)
    torch.testing.assert_close(torch.jit.script(model)(x.float()), model(x.float()))
    assert type(model.conv1d_transpose) is ConvTranspose1d
