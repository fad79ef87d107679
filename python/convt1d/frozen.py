"""Weights packed once for a module whose weights do not change between calls (inference); see
``convt1d.nn.ConvTranspose1d.freeze_weight``.

Why: fp32 layers on the Hopper tap-major kernel rearrange their weights on every call (W^T rounded
to TF32, or split in two parts for IEEE), about one read and one write of the weights: 10-90 us on
the large layers (docs/perf-log.md, step 167). A frozen module keeps that arrangement in device
memory, one buffer per layout (the same layer at most lengths shares one), and packs it again only
when its weight changes in a way torch records: another Parameter object, another storage, or an
in-place write (the tensor's version counter). Writes that bypass the version counter (through
``weight.data``) are not seen; freeze_weight() again after them.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from . import _launcher, _lib, ops

_is_capturing = torch.cuda.is_current_stream_capturing


class PackedWeights:
    """A frozen module's packed weights (kept in its __dict__ as ``_convt1d_packed``)."""

    __slots__ = ("weight", "version", "pointer", "buffers", "current")

    def __init__(self) -> None:
        # The Parameter the packed bytes were made from, held so that neither its id nor its storage
        # can pass to another tensor while it is compared against.
        self.weight: Optional[Tensor] = None
        self.version = -1
        self.pointer = 0
        # layout id -> uint8 CUDA tensor, kept while the module stays frozen: a CUDA graph captured
        # meanwhile reads it, and later packings rewrite it in place.
        self.buffers: dict[int, Tensor] = {}
        self.current: set[int] = set()  # the layout ids packed from the weight as it is now

    def __reduce__(self):
        # A copy (deepcopy, pickling the module) starts empty: the bytes are a cache of the weights.
        return (PackedWeights, ())

    def stale(self) -> None:
        """Packs again at the next call (after writes the version counter does not see)."""
        self.current.clear()

    def call(self, x, weight, bias, stride, padding, output_padding, groups, dilation) -> Optional[Tensor]:
        """The module's output computed from packed weights, or None where they do not apply (the
        caller takes its usual path): not plain fp32 CUDA tensors, a weight without a version counter
        (an inference tensor), gradients or a transform to record, or a plan that packs no weights."""
        plain = ops._PLAIN_TENSOR_TYPES
        if type(x) not in plain or type(weight) not in plain or (bias is not None and type(bias) not in plain):
            return None
        if x.dtype != torch.float32 or x.device.type != "cuda" or x.dim() not in (2, 3):
            return None
        if weight.is_inference():  # (made under torch.inference_mode: no version counter to watch)
            return None
        if ops._tracing_state() is not None or ops._transformed() or ops._needs_grad(x, weight, bias):
            return None
        signature = ops._signature(x, weight, bias, stride, padding, output_padding, groups, dilation)
        if signature.empty or signature.index < 0:
            return None
        if _launcher.module is not None:  # later calls: the launcher's module_call, once packed (_launch.cpp)
            _launcher.module.remember(x, weight, bias, stride, padding, output_padding, groups, dilation,
                                      *signature.addresses, signature.out_shape[2])
        if signature.index == ops._current_device():
            return self._call(signature, x, weight, bias)
        with torch.cuda.device(signature.index):  # the library plans for the current device
            return self._call(signature, x, weight, bias)

    def _call(self, signature, x: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Optional[Tensor]:
        math = ops._cuda_fp32_math()
        layout = signature.layouts[math]
        if layout is None:
            layout = signature.layouts[math] = _lib.packed_weight_layout(signature.problems[math])
        if layout.bytes == 0:
            return None
        if weight is not self.weight or weight._version != self.version or weight.data_ptr() != self.pointer:
            self.weight, self.version, self.pointer = weight, weight._version, weight.data_ptr()
            self.current.clear()
        stream = ops._cuda_stream(signature.index)
        packed = self.buffers.get(layout.id)
        if layout.id not in self.current:
            if _is_capturing():
                return None  # a packing captured into a graph would only run when the graph replays
            if packed is None or packed.device != x.device:  # (first call, or the module moved)
                packed = torch.empty(layout.bytes, dtype=torch.uint8, device=x.device)
                self.buffers[layout.id] = packed
            w = weight.contiguous()  # (a copy stays allocated until the packing has read it: stream order)
            _lib.pack_weight(signature.problems[math], w.data_ptr(), packed.data_ptr(), layout, stream)
            self.current.add(layout.id)
        x3 = x.unsqueeze(0) if signature.unbatched else x
        y = ops._call_packed(signature, math, x3, weight, bias, stream, packed, layout)
        return y.squeeze(0) if signature.unbatched else y
