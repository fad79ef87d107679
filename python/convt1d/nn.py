"""Modules: a drop-in ConvTranspose1d and the KernelBench ``ModelNew`` interface."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from . import _launcher
from .frozen import PackedWeights
from .ops import _fast_call, conv_transpose1d

__all__ = ["ConvTranspose1d", "ModelNew", "convert", "freeze_weights"]

# nn.Module's global hook registries (dicts that torch mutates in place). Where this torch lacks any of
# them, modules take nn.Module's own call path always.
_module_globals = torch.nn.modules.module
_GLOBAL_HOOKS = tuple(
    getattr(_module_globals, name, None)
    for name in ("_global_forward_pre_hooks", "_global_forward_hooks", "_global_backward_pre_hooks",
                 "_global_backward_hooks")
)
_FAST_CALL = all(isinstance(hooks, dict) for hooks in _GLOBAL_HOOKS)
_global_forward_pre_hooks, _global_forward_hooks, _global_backward_pre_hooks, _global_backward_hooks = (
    _GLOBAL_HOOKS if _FAST_CALL else ({}, {}, {}, {})
)
_tracing_state = torch._C._get_tracing_state
_is_compiling = torch.compiler.is_compiling


class ConvTranspose1d(torch.nn.ConvTranspose1d):
    """torch.nn.ConvTranspose1d computed by convt1d.

    Inherits everything but ``forward``: constructor, parameters, initialisation and state_dict keys
    are torch's, so checkpoints move between the two classes unchanged and, under the same seed, both
    draw the same initial weights. It adds no state of its own (but for ``freeze_weight``'s cache),
    which is what lets ``convert`` turn a torch module into this one in place.
    """

    def freeze_weight(self) -> "ConvTranspose1d":
        """Declares the weight constant from now on (inference), so that calls may read it packed once.

        Where a call's plan rearranges the weights on every call (fp32, TF32 or IEEE, on Hopper's
        tap-major kernel: layers with hundreds of channels), the arrangement is made at the first call
        and kept on the weight's device until the weight changes. Changes torch records are seen and
        repacked at the next call: another Parameter, another storage, any in-place write to the
        Parameter (``optimizer.step()``, ``load_state_dict``, ``with torch.no_grad(): w.mul_(2)``).
        Writes through ``weight.data`` bypass its version counter and are not seen: call freeze_weight()
        again after them. A weight created under ``torch.inference_mode`` has no version counter, so
        calls keep packing it per call. A CUDA graph captured while frozen reads the packed buffers: an eager call
        after a change repacks them in place (which the graph then reads), and after unfreeze_weight()
        such a graph must not be replayed. Calls that record gradients, other dtypes and other plans
        run as usual. Outputs equal the unfrozen module's. Returns self.
        """
        packed = self.__dict__.get("_convt1d_packed")
        if packed is None:
            self.__dict__["_convt1d_packed"] = PackedWeights()
        else:
            packed.stale()
        return self

    def unfreeze_weight(self) -> "ConvTranspose1d":
        """Drops the packed weights: every call packs again, as before freeze_weight(). Returns self."""
        self.__dict__.pop("_convt1d_packed", None)
        return self

    @property
    def weight_frozen(self) -> bool:
        return "_convt1d_packed" in self.__dict__

    __jit_unused_properties__ = ["weight_frozen"]  # (TorchScript compiles properties; this one is eager-only)

    def __call__(self, *args, **kwargs):
        # A repeated plain eager call module(x) is answered by the C++ launcher whole (_launch.cpp's
        # module_call reads the hook registries and forward's attributes from the instance __dict__):
        # as bytecode, the hook checks below and forward's reads cost ~1.5-2 us more. It answers None
        # for anything else, a signature's first call included, which the path below then validates and
        # remembers. torch.compile traces this method too and must never meet the launcher there:
        # _is_compiling() is the check it folds to True.
        if _module_call is not None and not kwargs and len(args) == 1 and not _is_compiling():
            y = _module_call(self, args[0])
            if y is not None:
                return y
        # nn.Module.__call__ costs ~0.8 us per call before it reaches forward (two frames, the tracing
        # state, eight hook registries). With no hooks, no module.compile() and no TorchScript tracing,
        # calling forward directly is what it would do, in about half that. (torch.compile traces this
        # too and reaches forward the same way; the op itself takes its compile path there.)
        if (
            _FAST_CALL
            and not (self._forward_pre_hooks or self._forward_hooks or self._backward_pre_hooks
                     or self._backward_hooks or _global_forward_pre_hooks or _global_forward_hooks
                     or _global_backward_pre_hooks or _global_backward_hooks)
            and self._compiled_call_impl is None
            and _tracing_state() is None
        ):
            return self.forward(*args, **kwargs)
        return torch.nn.Module.__call__(self, *args, **kwargs)

    def forward(self, input: Tensor, output_size: Optional[list[int]] = None) -> Tensor:
        # TorchScript compiles forward and whatever it calls; the eager path (f-strings, the launcher)
        # is not TorchScript, so a scripted module takes the registered op instead.
        if torch.jit.is_scripting():
            return self._scripted_forward(input, output_size)
        return self._eager_forward(input, output_size)

    def _scripted_forward(self, input: Tensor, output_size: Optional[list[int]]) -> Tensor:
        output_padding = self._checked_output_padding(input, output_size)
        unbatched = input.dim() == 2
        x = input.unsqueeze(0) if unbatched else input
        y = torch.ops.convt1d.conv_transpose1d(
            x, self.weight, self.bias, self.stride[0], self.padding[0], output_padding, self.groups, self.dilation[0]
        )
        return y.squeeze(0) if unbatched else y

    def _checked_output_padding(self, input: Tensor, output_size: Optional[list[int]]) -> int:
        # Both forwards' checks (so TorchScript compiles it: no f-strings).
        if self.padding_mode != "zeros":
            raise ValueError(
                "convt1d.nn.ConvTranspose1d: padding_mode must be 'zeros' (the only mode transposed "
                "convolutions support), got '" + self.padding_mode + "'"
            )
        if output_size is None:
            return self.output_padding[0]
        # torch's own rule for turning output_size into output_padding, errors included
        return self._output_padding(
            input, output_size, self.stride, self.padding, self.kernel_size, 1, self.dilation
        )[0]

    @torch.jit.unused
    def _eager_forward(self, input: Tensor, output_size: Optional[list[int]] = None) -> Tensor:
        output_padding = self._checked_output_padding(input, output_size)
        # Parameters straight from _parameters where they live there (nn.Module.__getattr__ costs about
        # 0.5 us per name); a parametrized or weight-normed weight is read through its attribute.
        params = self._parameters
        weight = params.get("weight")
        if weight is None:
            weight = self.weight
        bias = params["bias"] if "bias" in params else self.bias
        # Frozen weights (freeze_weight), where they apply; a parametrized weight is computed anew by
        # every call, so there is nothing to keep.
        packed = self.__dict__.get("_convt1d_packed")
        if packed is not None and params.get("weight") is weight and not _is_compiling():
            y = packed.call(input, weight, bias, self.stride[0], self.padding[0], output_padding, self.groups,
                            self.dilation[0])
            if y is not None:
                return y
        # Unwrapped to ints: the op's cheapest argument path, which a repeated eager call takes straight
        # into the C++ launcher here (one Python frame fewer; it answers None where the op must look).
        args = (input, weight, bias, self.stride[0], self.padding[0], output_padding, self.groups, self.dilation[0])
        if _fast_call is not None and not _is_compiling():
            y = _fast_call(*args)
            if y is not None:
                return y
        return conv_transpose1d(*args)


# The C++ launcher's module path, told once which class it stands in for and where torch keeps the global
# hooks; None (the Python path only) without the launcher or where this torch lacks those registries.
_module_call = None
if _launcher.module is not None and _FAST_CALL:
    _launcher.module.bind_module_globals(ConvTranspose1d, *_GLOBAL_HOOKS)
    _module_call = _launcher.module.module_call


class ModelNew(torch.nn.Module):
    """KernelBench's level-1 transposed-convolution model, computed by convt1d.

    Same signature and attribute name (``conv1d_transpose``) as the reference ``Model``, so its
    state_dict loads into the reference and, seeded alike, it starts from the same weights.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        bias: bool = False,
    ) -> None:
        super().__init__()
        self.conv1d_transpose = ConvTranspose1d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, dilation=dilation, bias=bias
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.conv1d_transpose(x)


def freeze_weights(model: torch.nn.Module, frozen: bool = True) -> torch.nn.Module:
    """``freeze_weight()`` (or, with frozen=False, ``unfreeze_weight()``) on every
    convt1d.nn.ConvTranspose1d in ``model`` (``convert`` first to include torch's own). Returns ``model``."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"convt1d.freeze_weights: model must be a torch.nn.Module, got {type(model).__name__}")
    if type(frozen) is not bool:
        raise TypeError(f"convt1d.freeze_weights: frozen must be a bool, got {type(frozen).__name__}")
    for module in model.modules():
        if isinstance(module, ConvTranspose1d) and frozen:
            module.freeze_weight()
        elif isinstance(module, ConvTranspose1d):
            module.unfreeze_weight()
    return model


def convert(model: torch.nn.Module) -> torch.nn.Module:
    """Switches every module whose class is exactly torch.nn.ConvTranspose1d to convt1d's, in place.

    Each such module keeps its identity: the same parameter tensors (so device, dtype and optimizer
    references stay valid), buffers, hooks and training flag. Only its class changes, which is safe
    because convt1d.nn.ConvTranspose1d is a subclass that adds no state. Subclasses of torch's module
    are left alone, since their forward may do more than a convolution. Returns ``model``.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"convt1d.convert: model must be a torch.nn.Module, got {type(model).__name__}")
    for module in model.modules():
        if type(module) is torch.nn.ConvTranspose1d:
            module.__class__ = ConvTranspose1d
    return model
