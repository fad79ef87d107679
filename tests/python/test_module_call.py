"""convt1d.nn.ConvTranspose1d's C++ call path (_launch.cpp's module_call): a repeated plain eager call
is answered there, straight from the module's __dict__, and every call it must not answer (hooks,
changed attributes, parametrizations, gradients, keyword arguments) still behaves as torch's module."""

from __future__ import annotations

import pytest
import torch

import convt1d.nn
from convt1d import ops
from convt1d.nn import ConvTranspose1d

pytestmark = pytest.mark.skipif(convt1d.nn._module_call is None, reason="C++ launcher unavailable")

CONFIGS = [
    dict(in_channels=4, out_channels=6, kernel_size=3),
    dict(in_channels=4, out_channels=6, kernel_size=5, stride=3, padding=2, output_padding=1, groups=2,
         dilation=2),
    dict(in_channels=6, out_channels=3, kernel_size=4, stride=2, padding=1, output_padding=1, groups=3,
         dilation=3, bias=False),
]
TIGHT = dict(rtol=1e-12, atol=1e-12)


class _Counter:
    """Stands in for nn._module_call and counts the calls the C++ path answered."""

    def __init__(self, fn):
        self.fn, self.hits = fn, 0

    def __call__(self, module, x):
        y = self.fn(module, x)
        if y is not None:
            self.hits += 1
        return y


@pytest.fixture
def counter(monkeypatch):
    ops._forget_signatures()
    c = _Counter(convt1d.nn._module_call)
    monkeypatch.setattr(convt1d.nn, "_module_call", c)
    return c


def _pair(**config):
    torch.manual_seed(0)
    ours = ConvTranspose1d(**config).double()
    ref = torch.nn.ConvTranspose1d(**config).double()
    ref.load_state_dict(ours.state_dict())
    return ours, ref


@pytest.mark.parametrize("config", CONFIGS)
def test_repeated_call_is_answered_in_cpp_like_torch(config, counter):
    ours, ref = _pair(**config)
    x = torch.randn(2, config["in_channels"], 13, dtype=torch.float64)
    with torch.no_grad():
        first = ours(x)  # the signature's first call: Python validates and remembers it
        assert counter.hits == 0
        again = ours(x)
        assert counter.hits == 1
        torch.testing.assert_close(first, ref(x), **TIGHT)
        torch.testing.assert_close(again, ref(x), **TIGHT)
        ours(x[0])
        torch.testing.assert_close(ours(x[0]), ref(x[0]), **TIGHT)  # unbatched
        assert counter.hits == 2


_HOOKS = {
    "forward_pre": lambda m, seen: m.register_forward_pre_hook(lambda mod, args: seen.append("pre")),
    "forward": lambda m, seen: m.register_forward_hook(lambda mod, args, out: seen.append("post")),
    "backward_pre": lambda m, seen: m.register_full_backward_pre_hook(lambda mod, gout: None),
    "backward": lambda m, seen: m.register_full_backward_hook(lambda mod, gin, gout: None),
    "global_forward_pre": lambda m, seen: torch.nn.modules.module.register_module_forward_pre_hook(
        lambda mod, args: seen.append("pre")),
    "global_forward": lambda m, seen: torch.nn.modules.module.register_module_forward_hook(
        lambda mod, args, out: seen.append("post")),
    "global_backward_pre": lambda m, seen: torch.nn.modules.module.register_module_full_backward_pre_hook(
        lambda mod, gout: None),
    "global_backward": lambda m, seen: torch.nn.modules.module.register_module_full_backward_hook(
        lambda mod, gin, gout: None),
}


@pytest.mark.parametrize("kind", list(_HOOKS))
def test_hooks_turn_the_cpp_path_off_until_removed(kind, counter):
    ours, ref = _pair(in_channels=4, out_channels=6, kernel_size=3, stride=2)
    x = torch.randn(2, 4, 9, dtype=torch.float64)
    seen = []
    with torch.no_grad():
        ours(x)
        handle = _HOOKS[kind](ours, seen)
        try:
            y = ours(x)
        finally:
            handle.remove()
        assert counter.hits == 0
        assert seen == ([] if "backward" in kind else ["pre"] if "pre" in kind else ["post"])
        torch.testing.assert_close(y, ref(x), **TIGHT)
        ours(x)
        assert counter.hits == 1


def test_keyword_and_extra_arguments_take_the_python_path(counter):
    ours, ref = _pair(in_channels=4, out_channels=6, kernel_size=3, stride=3, padding=1, dilation=2)
    x = torch.randn(2, 4, 7, dtype=torch.float64)
    with torch.no_grad():
        ours(x)
        for _ in range(2):
            torch.testing.assert_close(ours(x, output_size=[22]), ref(x, output_size=[22]), **TIGHT)
            torch.testing.assert_close(ours(x, [23]), ref(x, [23]), **TIGHT)
            torch.testing.assert_close(ours(input=x), ref(input=x), **TIGHT)
    assert counter.hits == 0


def test_padding_mode_set_after_construction_still_raises(counter):
    ours, _ = _pair(in_channels=4, out_channels=6, kernel_size=3)
    x = torch.randn(1, 4, 5, dtype=torch.float64)
    with torch.no_grad():
        ours(x)
        ours(x)  # remembered: the C++ path would answer it
        assert counter.hits == 1
        ours.padding_mode = "circular"
        with pytest.raises(ValueError, match="padding_mode must be 'zeros'"):
            ours(x)
    assert counter.hits == 1


@pytest.mark.parametrize("name, value", [("stride", (3,)), ("padding", (2,)), ("output_padding", (1,)),
                                         ("dilation", (2,)), ("groups", 2)])
def test_attributes_changed_after_construction_are_read_at_each_call(name, value, counter):
    ours, ref = _pair(in_channels=4, out_channels=6, kernel_size=3, stride=2)
    x = torch.randn(2, 4, 9, dtype=torch.float64)
    with torch.no_grad():
        ours(x)
        ours(x)
        assert counter.hits == 1
        if name == "groups":  # the weight's shape follows the groups
            for m in (ours, ref):
                m.weight = torch.nn.Parameter(m.weight[:, :3].clone())
        setattr(ours, name, value)
        setattr(ref, name, value)
        for _ in range(2):
            torch.testing.assert_close(ours(x), ref(x), **TIGHT)
    assert counter.hits == 2  # the new values' second call


def test_replaced_weight_and_removed_bias_are_read_at_each_call(counter):
    ours, ref = _pair(in_channels=4, out_channels=6, kernel_size=3, stride=2)
    x = torch.randn(2, 4, 9, dtype=torch.float64)
    with torch.no_grad():
        ours(x)
        ours(x)
        weight = torch.nn.Parameter(torch.randn_like(ours.weight))
        ours.weight, ref.weight = weight, weight
        torch.testing.assert_close(ours(x), ref(x), **TIGHT)
        ours.bias, ref.bias = None, None
        ours(x)
        torch.testing.assert_close(ours(x), ref(x), **TIGHT)
    assert counter.hits == 3


def test_replaced_forward_is_called(counter):
    ours, ref = _pair(in_channels=4, out_channels=6, kernel_size=3)
    x = torch.randn(2, 4, 9, dtype=torch.float64)

    class Shifted(ConvTranspose1d):
        def forward(self, input, output_size=None):
            return super().forward(input, output_size) + 1

    shifted = Shifted(4, 6, 3).double()
    shifted.load_state_dict(ref.state_dict())
    with torch.no_grad():
        ours(x)
        ours.forward = lambda input: torch.zeros(1)  # an instance's own forward (as accelerate's hooks set)
        assert torch.equal(ours(x), torch.zeros(1))
        del ours.forward
        for _ in range(2):
            torch.testing.assert_close(shifted(x), ref(x) + 1, **TIGHT)
        assert counter.hits == 0
        torch.testing.assert_close(ours(x), ref(x), **TIGHT)
        assert counter.hits == 1


def test_forward_replaced_on_the_class_is_called(counter):
    ours, ref = _pair(in_channels=4, out_channels=6, kernel_size=3)
    x = torch.randn(2, 4, 9, dtype=torch.float64)
    forward = ConvTranspose1d.forward
    with torch.no_grad():
        ours(x)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ConvTranspose1d, "forward", lambda self, input: forward(self, input) + 1)
            torch.testing.assert_close(ours(x), ref(x) + 1, **TIGHT)
        torch.testing.assert_close(ours(x), ref(x), **TIGHT)
    assert counter.hits == 1


def test_parametrized_weight(counter):
    class Doubled(torch.nn.Module):
        def forward(self, w):
            return 2 * w

    ours, ref = _pair(in_channels=4, out_channels=6, kernel_size=3, stride=2)
    for m in (ours, ref):
        torch.nn.utils.parametrize.register_parametrization(m, "weight", Doubled())
    assert "weight" not in ours._parameters
    x = torch.randn(2, 4, 9, dtype=torch.float64)
    with torch.no_grad():
        for _ in range(2):
            torch.testing.assert_close(ours(x), ref(x), **TIGHT)
    assert counter.hits == 0
    y, y_ref = ours(x), ref(x)
    y.square().sum().backward()
    y_ref.square().sum().backward()
    torch.testing.assert_close(ours.parametrizations.weight.original.grad,
                               ref.parametrizations.weight.original.grad, rtol=1e-10, atol=1e-10)


def test_inputs_needing_gradients_take_the_autograd_path(counter):
    ours, ref = _pair(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1)
    x = torch.randn(2, 4, 9, dtype=torch.float64)
    with torch.no_grad():
        ours(x)
        ours(x)
    assert counter.hits == 1
    xg, xr = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    y = ours(xg)  # grad mode on, the weight requires a gradient
    assert y.grad_fn is not None and counter.hits == 1
    y.square().sum().backward()
    ref(xr).square().sum().backward()
    torch.testing.assert_close(xg.grad, xr.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(ours.bias.grad, ref.bias.grad, rtol=1e-10, atol=1e-10)
    # grad mode on but nothing requires a gradient: the C++ path again
    for p in ours.parameters():
        p.requires_grad_(False)
    y = ours(x)
    assert y.grad_fn is None and counter.hits == 2
    torch.testing.assert_close(y, ref(x), **TIGHT)


def test_module_compile_takes_the_python_path(counter):
    ours, ref = _pair(in_channels=4, out_channels=6, kernel_size=3, stride=2)
    x = torch.randn(2, 4, 9, dtype=torch.float64)
    with torch.no_grad():
        ours(x)
        ours.compile(backend="eager")
        for _ in range(2):
            torch.testing.assert_close(ours(x), ref(x), **TIGHT)
    assert counter.hits == 0


def test_module_call_answers_none_for_other_objects():
    module_call = convt1d.nn._module_call
    x = torch.randn(1, 4, 5)
    assert module_call(torch.nn.ConvTranspose1d(4, 6, 3), x) is None  # not convt1d's class
    assert module_call(object(), x) is None
    with pytest.raises(TypeError):
        module_call(ConvTranspose1d(4, 6, 3))
