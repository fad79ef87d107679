"""The functional op: ``conv_transpose1d`` with torch.nn.functional.conv_transpose1d's semantics.

Three paths lead to the same implementation (``_run`` / ``_launch``):

* the custom op ``torch.ops.convt1d.conv_transpose1d`` (fake/meta kernel for tracing, autograd through
  aten's convolution_backward) — taken while torch.compile traces or torch.jit.trace records, and for
  meta tensors and tensor subclasses;
* in eager mode, when a gradient is needed, a torch.func transform (vmap, grad, jvp, ...) or a forward-AD
  level is active: an autograd.Function sharing the op's forward, backward and vmap rule, with a jvp
  (a custom op's autograd wrapper costs ~10x more per call, and refuses torch.func.grad);
* in eager mode without gradients: a direct call, so the per-call cost is a signature lookup plus one
  call of the C++ launcher (_launch.cpp; through ctypes where it is not built).

Argument checks run in Python before anything reaches the library, so every mistake is reported with
the argument's name, what was expected and what was given.
"""

from __future__ import annotations

import ctypes
import operator
import warnings
from typing import Optional

import torch
import torch.autograd.forward_ad as _forward_ad
from torch import Tensor

from . import _launcher, _lib

__all__ = ["conv_transpose1d"]

_DTYPE_CODES = {
    torch.float32: _lib.DTYPE_FLOAT32,
    torch.float16: _lib.DTYPE_FLOAT16,
    torch.bfloat16: _lib.DTYPE_BFLOAT16,
    torch.float64: _lib.DTYPE_FLOAT64,
}
_SUPPORTED_DTYPES = "float32, float16, bfloat16 or float64"
# Types whose data_ptr() is real memory; tensor subclasses (FakeTensor, DTensor, ...) take the op path.
_PLAIN_TENSOR_TYPES = (torch.Tensor, torch.nn.Parameter)

class _Signature:
    """A call signature (shapes, dtypes and devices of the tensors, the int parameters) that passed the
    argument checks, with everything a call derives from it: what _check returned, the output shape,
    the dtype code, the device and the library's problem struct per fp32 math mode (immutable but for
    the ctypes path's allocation template, so shared by every call and thread). A repeated call looks it
    all up: ~1 us in place of ~3.5 us of checks and arithmetic."""

    __slots__ = ("checked", "unbatched", "out_shape", "empty", "meta", "index", "cuda_fp32", "problems", "addresses",
                 "template", "layouts")

    def __init__(self, checked: tuple, x: Tensor, has_bias: bool) -> None:
        self.checked = checked
        stride, padding, output_padding, groups, dilation, in_channels, in_length, out_per_group, kernel_size, \
            out_length = checked
        self.unbatched = x.dim() == 2
        batch = 1 if self.unbatched else x.shape[0]
        self.out_shape = (batch, out_per_group * groups, out_length)  # batched
        self.empty = batch == 0
        self.meta = x.is_meta
        self.index = -1 if self.meta else x.get_device()  # -1 on the CPU
        dtype = _DTYPE_CODES[x.dtype]
        # The CPU backend accumulates in fp64 whatever the mode; TF32 is a CUDA-only notion in PyTorch too.
        self.cuda_fp32 = self.index >= 0 and dtype == _lib.DTYPE_FLOAT32
        device = _lib.DEVICE_CUDA if self.index >= 0 else _lib.DEVICE_CPU
        self.problems = [None, None]  # indexed by the math code
        for math in (_lib.MATH_TF32, _lib.MATH_IEEE):
            self.problems[math] = _lib.Problem(batch, in_channels, out_per_group * groups, in_length, kernel_size,
                                               stride, padding, output_padding, dilation, groups, has_bias, dtype,
                                               math, device, _lib.ALGO_AUTO)
        self.addresses = [ctypes.addressof(problem) for problem in self.problems]  # for the C++ launcher
        self.template = None  # the ctypes path's allocation template, made on its first call there
        self.layouts = [None, None]  # per math code: the packed-weight layout (frozen.py), once asked for


# The bound only protects against unbounded shape churn.
_SIGNATURES: dict[tuple, _Signature] = {}
_SIGNATURES_LIMIT = 4096


def _signature(x, weight, bias, stride: int, padding: int, output_padding: int, groups: int, dilation: int):
    """The call's _Signature: looked up, or checked (raising on bad input) and remembered. For tensors
    whose shape, dtype and device are all _check reads, and int parameters."""
    key = (x.shape, x.dtype, x.device, weight.shape, weight.dtype, weight.device,
           None if bias is None else (bias.shape, bias.dtype, bias.device),
           stride, padding, output_padding, groups, dilation)
    signature = _SIGNATURES.get(key)
    if signature is None:
        checked = _check(x, weight, bias, stride, padding, output_padding, groups, dilation)
        signature = _Signature(checked, x, bias is not None)
        if len(_SIGNATURES) >= _SIGNATURES_LIMIT:
            _SIGNATURES.clear()
        _SIGNATURES[key] = signature
    return signature


# ----------------------------------------------------------------------------------------------
# Math mode for fp32 on CUDA


# The per-call reads below go straight to torch._C where this torch has the entry points (the public
# wrappers build Python objects on every call: torch.cuda.current_stream alone costs several us).
_fp32_precision_getter = getattr(torch._C, "_get_fp32_precision_getter", None)
_allow_tf32_getter = getattr(torch._C, "_get_cudnn_allow_tf32", None)
_raw_stream = getattr(torch._C, "_cuda_getCurrentRawStream", None)
_current_device = getattr(torch._C, "_cuda_getDevice", None) or torch.cuda.current_device
_empty_like = torch.empty_like
_forward = _lib._forward
_is_compiling = torch.compiler.is_compiling
_is_grad_enabled = torch.is_grad_enabled
_tracing_state = torch._C._get_tracing_state
# torch.func transforms (vmap, grad, jvp, ...) or a forward-AD dual level (torch.autograd.forward_ad)
# active: the call must go through _EagerAutograd, which they see (vmap and jvp rules).
_functorch_active = getattr(torch._C, "_are_functorch_transforms_active", lambda: False)


def _transformed() -> bool:
    return _functorch_active() or getattr(_forward_ad, "_current_level", -1) >= 0


def _cuda_fp32_math() -> int:
    """TF32 or IEEE, following the switch PyTorch's own cuDNN convolutions obey, read at call time.

    The newer ``torch.backends.cudnn.conv.fp32_precision`` wins when it says "tf32" or "ieee"; "none"
    (or an older torch without it) defers to ``torch.backends.cudnn.allow_tf32``. PyTorch refuses to
    read allow_tf32 once the new and legacy APIs were mixed; its effective precision then is "not
    TF32", so that case maps to IEEE.
    """
    if _fp32_precision_getter is not None:
        precision = _fp32_precision_getter("cuda", "conv")
    else:
        conv = getattr(torch.backends.cudnn, "conv", None)
        precision = conv.fp32_precision if conv is not None else "none"
    if precision == "tf32":
        return _lib.MATH_TF32
    if precision == "ieee":
        return _lib.MATH_IEEE
    try:
        allow = _allow_tf32_getter() if _allow_tf32_getter is not None else torch.backends.cudnn.allow_tf32
        return _lib.MATH_TF32 if allow else _lib.MATH_IEEE
    except RuntimeError:
        return _lib.MATH_IEEE


def _cuda_stream(index: int) -> int:
    """The current stream of device ``index`` as a raw cudaStream_t."""
    if _raw_stream is not None:
        return _raw_stream(index)
    return torch.cuda.current_stream(index).cuda_stream


# ----------------------------------------------------------------------------------------------
# Implementation shared by the eager fast path and the custom op


def _run(
    x: Tensor,
    weight: Tensor,
    bias: Optional[Tensor],
    stride: int,
    padding: int,
    output_padding: int,
    groups: int,
    dilation: int,
) -> Tensor:
    """Runs the library on 3-D inputs and returns a new contiguous output (the custom op's kernel)."""
    return _launch(_signature(x, weight, bias, stride, padding, output_padding, groups, dilation), x, weight, bias)


def _launch(signature: _Signature, x: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
    """One library call on 3-D x of this signature."""
    index = signature.index
    if index < 0:
        return _call(signature, _lib.MATH_IEEE, x, weight, bias, 0)
    math = _cuda_fp32_math() if signature.cuda_fp32 else _lib.MATH_IEEE
    if index == _current_device():
        return _call(signature, math, x, weight, bias, _cuda_stream(index))
    # The library runs on the calling thread's current device, so make it the tensors' device.
    with torch.cuda.device(index):
        return _call(signature, math, x, weight, bias, _cuda_stream(index))


def _call_launcher(signature: _Signature, math: int, x: Tensor, weight: Tensor, bias: Optional[Tensor],
                   stream: int) -> Tensor:
    """The library call through the C++ launcher: contiguous inputs, allocation and the call in one step."""
    return _launcher.launch(signature.addresses[math], x, weight, bias, signature.out_shape[2], stream)


def _call_ctypes(signature: _Signature, math: int, x: Tensor, weight: Tensor, bias: Optional[Tensor],
                 stream: int, packed: Optional[Tensor] = None, layout: Optional[_lib.PackedLayout] = None) -> Tensor:
    """The same call step by step from Python, where the launcher is not built (with `packed`: reading
    those weights, packed in `layout`)."""
    x = x.contiguous()
    weight = weight.contiguous()
    if signature.template is None:
        # torch.empty_like of a one-element tensor broadcast to the output shape is the cheapest way to
        # allocate from Python (~1.6 us on a CUDA tensor against ~2.8 for new_empty(shape)); a broadcast
        # is not dense, so empty_like lays the new tensor out contiguously. (Set once; any thread's copy
        # is as good as another's.)
        signature.template = x.new_empty(1).expand(signature.out_shape)
    y = _empty_like(signature.template)
    if signature.empty:
        return y
    if bias is not None:
        bias = bias.contiguous()  # (kept referenced until the call returns)
        bias_ptr = bias.data_ptr()
    else:
        bias_ptr = None
    if packed is None:
        status = _forward(signature.problems[math], x.data_ptr(), weight.data_ptr(), bias_ptr, y.data_ptr(),
                          stream or None)
    else:
        status = _lib._forward_packed(signature.problems[math], x.data_ptr(), weight.data_ptr(), packed.data_ptr(),
                                      layout, bias_ptr, y.data_ptr(), stream or None)
    if status:
        _lib.raise_status(status)
    return y


def _call_packed(signature: _Signature, math: int, x: Tensor, weight: Tensor, bias: Optional[Tensor], stream: int,
                 packed: Tensor, layout: _lib.PackedLayout) -> Tensor:
    """One library call on 3-D x reading weights packed ahead (frozen.py) from `packed` in `layout`."""
    if _launcher.module is not None:
        return _launcher.module.launch_packed(signature.addresses[math], x, weight, bias, signature.out_shape[2], stream,
                                              packed.data_ptr(), layout.bytes, layout.id)
    return _call_ctypes(signature, math, x, weight, bias, stream, packed, layout)


_call = _call_launcher if _launcher.launch is not None else _call_ctypes
_fast_call = _launcher.module.call if _launcher.module is not None else None


def _forget_signatures() -> None:
    """Drops every remembered signature (here and in the C++ launcher); for tests."""
    _SIGNATURES.clear()
    if _launcher.module is not None:
        _launcher.module.forget()


# ----------------------------------------------------------------------------------------------
# The custom op: what autograd and torch.compile see


@torch.library.custom_op("convt1d::conv_transpose1d", mutates_args=())
def _conv_transpose1d_op(
    x: Tensor,
    weight: Tensor,
    bias: Optional[Tensor],
    stride: int,
    padding: int,
    output_padding: int,
    groups: int,
    dilation: int,
) -> Tensor:
    return _run(x, weight, bias, stride, padding, output_padding, groups, dilation)


@_conv_transpose1d_op.register_fake
def _conv_transpose1d_fake(x, weight, bias, stride, padding, output_padding, groups, dilation):
    batch, _, in_length = x.shape
    kernel_size = weight.shape[2]
    out_length = (in_length - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    return x.new_empty((batch, weight.shape[1] * groups, out_length))


def _setup_context(ctx, inputs, output):
    x, weight, bias, stride, padding, output_padding, groups, dilation = inputs
    ctx.save_for_backward(x, weight)
    ctx.bias_sizes = None if bias is None else [bias.shape[0]]
    ctx.params = (stride, padding, output_padding, groups, dilation)


def _backward(ctx, grad_out):
    x, weight = ctx.saved_tensors
    stride, padding, output_padding, groups, dilation = ctx.params
    need = ctx.needs_input_grad
    has_bias = ctx.bias_sizes is not None
    # aten's own backward of a transposed convolution, so gradients are PyTorch's to the bit.
    grad_x, grad_w, grad_b = torch.ops.aten.convolution_backward(
        grad_out, x, weight, ctx.bias_sizes, [stride], [padding], [dilation], True, [output_padding], groups,
        [need[0], need[1], has_bias and need[2]],
    )
    return grad_x, grad_w, grad_b if has_bias else None, None, None, None, None, None


_conv_transpose1d_op.register_autograd(_backward, setup_context=_setup_context)
_OP = torch.ops.convt1d.conv_transpose1d.default


def _vmap_rule(call, info, in_dims, x, weight, bias, stride, padding, output_padding, groups, dilation):
    """torch.func.vmap of `call` (the op, or _EagerAutograd.apply), as one call. With one weight (and
    bias) for every sample, the mapped dimension of x joins its batch. With per-sample weights or biases,
    the samples become groups: sample v's channels are groups v*groups.. of a call with groups * n groups
    (x shared by every sample is repeated along its channels)."""
    x_dim, w_dim, b_dim = in_dims[:3]
    if w_dim is None and b_dim is None:
        if x_dim is None:  # (the transform maps other inputs of the caller, none of this call's)
            return call(x, weight, bias, stride, padding, output_padding, groups, dilation), None
        xs = x.movedim(x_dim, 0)
        y = call(xs.reshape((-1,) + xs.shape[2:]), weight, bias, stride, padding, output_padding, groups, dilation)
        return y.reshape(xs.shape[:2] + y.shape[1:]), 0

    n = info.batch_size

    def per_sample(t, dim):
        return t.movedim(dim, 0) if dim is not None else t.expand(n, *t.shape)

    xs, ws = per_sample(x, x_dim), per_sample(weight, w_dim)  # (n, B, C_in, L), (n, C_in, C_out/g, K)
    batch, in_channels, length = xs.shape[1:]
    y = call(xs.transpose(0, 1).reshape(batch, n * in_channels, length), ws.reshape((-1,) + ws.shape[2:]),
             None if bias is None else per_sample(bias, b_dim).reshape(-1), stride, padding, output_padding,
             groups * n, dilation)
    return y.reshape(batch, n, -1, y.shape[-1]), 1


_conv_transpose1d_op.register_vmap(lambda info, in_dims, *args: _vmap_rule(_OP, info, in_dims, *args))


class _EagerAutograd(torch.autograd.Function):
    """The custom op's autograd, as a plain autograd.Function for eager mode.

    Same forward, same saved state, same backward functions as the registered op; it exists because
    a custom op's Python autograd wrapper costs ~50-150 us per call on the CPU, against ~10 us here.
    torch.compile and tensor subclasses still go through the custom op. It is also the eager path under
    torch.func transforms (the op's own autograd refuses torch.func.grad), with the op's vmap rule.
    """

    @staticmethod
    def forward(x, weight, bias, stride, padding, output_padding, groups, dilation):
        return _run(x, weight, bias, stride, padding, output_padding, groups, dilation)

    @staticmethod
    def setup_context(ctx, inputs, output):
        _setup_context(ctx, inputs, output)
        ctx.save_for_forward(*inputs[:2])
        ctx.out_shape = output.shape

    backward = staticmethod(_backward)

    @staticmethod
    def jvp(ctx, x_t, w_t, b_t, *_):
        # Linear in x, in W and in the bias: the tangent is the sum of the three terms.
        x, weight = ctx.saved_tensors
        terms = []
        if x_t is not None:
            terms.append(conv_transpose1d(x_t, weight, None, *ctx.params))
        if w_t is not None:
            terms.append(conv_transpose1d(x, w_t, None, *ctx.params))
        if b_t is not None:  # (broadcast onto the other terms, or the whole tangent)
            column = b_t.view(1, -1, 1)
            terms.append(column if terms else column.expand(ctx.out_shape).contiguous())
        out = terms[0]
        for term in terms[1:]:
            out = out + term
        return out

    @staticmethod
    def vmap(info, in_dims, *args):
        return _vmap_rule(_EagerAutograd.apply, info, in_dims, *args)


# ----------------------------------------------------------------------------------------------
# Argument checks


def _int_param(name: str, value, minimum: int) -> int:
    """An int, or a 1-element tuple/list of one, as F.conv_transpose1d accepts; >= minimum."""
    if type(value) is not int:
        if isinstance(value, (tuple, list)):
            if len(value) != 1:
                raise ValueError(
                    f"convt1d.conv_transpose1d: {name} must be an int or a 1-element tuple, "
                    f"got a {type(value).__name__} of length {len(value)}: {tuple(value)!r}"
                )
            value = value[0]
        if isinstance(value, bool) or not _is_integer(value):
            raise TypeError(
                f"convt1d.conv_transpose1d: {name} must be an int, got {type(value).__name__} {value!r}"
            )
        if not isinstance(value, torch.SymInt):
            value = operator.index(value)
    if value < minimum:
        raise ValueError(f"convt1d.conv_transpose1d: {name} must be >= {minimum}, got {value}")
    return value


def _is_integer(value) -> bool:
    """Python ints, SymInts while tracing, and exact integer types such as numpy.int64 (``__index__``)."""
    if isinstance(value, (int, torch.SymInt)):
        return True
    return hasattr(type(value), "__index__") and not isinstance(value, torch.Tensor)


def _check_tensor(name: str, value) -> None:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"convt1d.conv_transpose1d: {name} must be a torch.Tensor, got {type(value).__name__}")
    if value.dtype not in _DTYPE_CODES:
        raise TypeError(
            f"convt1d.conv_transpose1d: {name} must have dtype {_SUPPORTED_DTYPES}, got {value.dtype}"
        )


def _check_traced(*args):
    """_check under torch.jit.trace, without its TracerWarnings. Shapes are traced tensors there, and
    every shape test warns that it becomes a constant of the trace: true, and harmless, because the op
    that the trace records validates its inputs again (_run) each time the trace runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        return _check(*args)


def _check(x, weight, bias, stride, padding, output_padding, groups, dilation):
    """Validates everything. Returns the five params as plain ints followed by in_channels, in_length,
    out_channels/groups, kernel_size and out_length. Raises TypeError/ValueError."""
    _check_tensor("x", x)
    _check_tensor("weight", weight)
    x_dims = x.dim()
    if x_dims != 3 and x_dims != 2:
        raise ValueError(
            f"convt1d.conv_transpose1d: x must be 2-D (in_channels, length) or 3-D (batch, in_channels, length), "
            f"got a {x_dims}-D tensor of shape {tuple(x.shape)}"
        )
    if weight.dim() != 3:
        raise ValueError(
            f"convt1d.conv_transpose1d: weight must be 3-D (in_channels, out_channels/groups, kernel_size), "
            f"got a {weight.dim()}-D tensor of shape {tuple(weight.shape)}"
        )
    dtype = x.dtype
    device = x.device
    if weight.dtype != dtype:
        raise TypeError(
            f"convt1d.conv_transpose1d: weight dtype must match x dtype {dtype}, got {weight.dtype}"
        )
    if weight.device != device:
        raise ValueError(
            f"convt1d.conv_transpose1d: weight must be on x's device {device}, got {weight.device}"
        )
    if device.type not in ("cpu", "cuda", "meta"):
        raise ValueError(f"convt1d.conv_transpose1d: x must be on a cpu or cuda device, got {device}")
    if bias is not None:
        _check_tensor("bias", bias)
        if bias.dtype != dtype:
            raise TypeError(
                f"convt1d.conv_transpose1d: bias dtype must match x dtype {dtype}, got {bias.dtype}"
            )
        if bias.device != device:
            raise ValueError(
                f"convt1d.conv_transpose1d: bias must be on x's device {device}, got {bias.device}"
            )

    # Plain in-range ints (the common case) skip the per-parameter normalisation.
    if not (
        type(stride) is int and type(padding) is int and type(output_padding) is int and type(groups) is int
        and type(dilation) is int and stride >= 1 and padding >= 0 and output_padding >= 0 and groups >= 1
        and dilation >= 1
    ):
        stride = _int_param("stride", stride, 1)
        padding = _int_param("padding", padding, 0)
        output_padding = _int_param("output_padding", output_padding, 0)
        groups = _int_param("groups", groups, 1)
        dilation = _int_param("dilation", dilation, 1)
    if output_padding >= stride and output_padding >= dilation:
        raise ValueError(
            f"convt1d.conv_transpose1d: output_padding must be smaller than max(stride, dilation) = "
            f"{max(stride, dilation)}, got output_padding {output_padding}"
        )

    in_channels, in_length = x.shape[-2], x.shape[-1]
    w_in, out_per_group, kernel_size = weight.shape
    if in_channels != w_in:
        raise ValueError(
            f"convt1d.conv_transpose1d: x has {in_channels} channels (x.shape[-2]) but weight expects "
            f"weight.shape[0] = {w_in}; x shape {tuple(x.shape)}, weight shape {tuple(weight.shape)}"
        )
    if in_channels < 1:
        raise ValueError(f"convt1d.conv_transpose1d: x must have >= 1 channels (x.shape[-2]), got {in_channels}")
    if out_per_group < 1 or kernel_size < 1:
        raise ValueError(
            f"convt1d.conv_transpose1d: weight.shape[1] (out_channels/groups) and weight.shape[2] (kernel_size) "
            f"must be >= 1, got weight shape {tuple(weight.shape)}"
        )
    if in_length < 1:
        raise ValueError(f"convt1d.conv_transpose1d: x length (x.shape[-1]) must be >= 1, got {in_length}")
    if in_channels % groups:
        raise ValueError(
            f"convt1d.conv_transpose1d: weight.shape[0] (in_channels = {in_channels}) must be divisible by "
            f"groups = {groups}"
        )
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_per_group * groups):
        raise ValueError(
            f"convt1d.conv_transpose1d: bias must be 1-D of length out_channels = weight.shape[1] * groups = "
            f"{out_per_group * groups}, got shape {tuple(bias.shape)}"
        )
    out_length = (in_length - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if out_length < 1:
        raise ValueError(
            f"convt1d.conv_transpose1d: output length (L_in-1)*stride - 2*padding + dilation*(kernel_size-1) "
            f"+ output_padding + 1 must be >= 1, got {out_length} (L_in {in_length}, stride {stride}, padding "
            f"{padding}, dilation {dilation}, kernel_size {kernel_size}, output_padding {output_padding})"
        )
    return (stride, padding, output_padding, groups, dilation,
            in_channels, in_length, out_per_group, kernel_size, out_length)


def _needs_grad(x, weight, bias):
    """Whether autograd records this call: grad mode on and an input that requires a gradient."""
    return _is_grad_enabled() and (
        x.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)
    )


# ----------------------------------------------------------------------------------------------
# Public entry point


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution with the semantics of ``torch.nn.functional.conv_transpose1d``.

    Args:
        x: (batch, in_channels, length) or unbatched (in_channels, length); any strides.
        weight: (in_channels, out_channels / groups, kernel_size).
        bias: optional (out_channels,).
        stride, padding, output_padding, groups, dilation: ints or 1-element tuples, as in PyTorch.

    Returns (batch, out_channels, out_length), or (out_channels, out_length) for unbatched x, with
    out_length = (length - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1.

    fp32 on CUDA uses TF32 unless PyTorch's cuDNN switch asks for IEEE fp32
    (``torch.backends.cudnn.conv.fp32_precision``, else ``torch.backends.cudnn.allow_tf32``), read at
    each call. Gradients (x, weight, bias) come from aten's convolution_backward.

    Raises:
        TypeError: an argument has the wrong type — not a tensor, a non-integer parameter, an
            unsupported dtype (only float32/float16/bfloat16/float64) or mismatched dtypes.
        ValueError: a value is wrong — tensor rank or shape, devices that differ, a parameter out of
            range, output_padding >= max(stride, dilation), a tuple of the wrong length, or an output
            length below 1.
        RuntimeError: the library refused or failed; the message is the library's.
    """
    # A repeated plain eager call goes to the C++ launcher whole; it answers None for anything else.
    if _fast_call is not None and not _is_compiling():
        y = _fast_call(x, weight, bias, stride, padding, output_padding, groups, dilation)
        if y is not None:
            return y
    plain = (
        type(x) in _PLAIN_TENSOR_TYPES
        and type(weight) in _PLAIN_TENSOR_TYPES
        and (bias is None or type(bias) in _PLAIN_TENSOR_TYPES)
    )
    # Eager without a transform in the way: plain tensors holding memory, outside torch.compile and
    # TorchScript tracing (both record the custom op instead; a library call would be invisible to them)
    # and outside torch.func transforms and forward AD (below: _EagerAutograd, which they see).
    if (
        plain and type(stride) is int and type(padding) is int and type(output_padding) is int
        and type(groups) is int and type(dilation) is int and not _is_compiling() and _tracing_state() is None
        and not _transformed()
    ):
        needs_grad = _needs_grad(x, weight, bias)
        signature = _signature(x, weight, bias, stride, padding, output_padding, groups, dilation)
        eager = not signature.meta
        if eager and not needs_grad:
            # The eager path without gradients: one lookup, one library call.
            if _fast_call is not None:
                _launcher.module.remember(x, weight, bias, stride, padding, output_padding, groups, dilation,
                                          *signature.addresses, signature.out_shape[2])
            if signature.unbatched:
                return _launch(signature, x.unsqueeze(0), weight, bias).squeeze(0)
            return _launch(signature, x, weight, bias)
        checked = signature.checked
        autograd = needs_grad
    elif _tracing_state() is not None:
        checked = _check_traced(x, weight, bias, stride, padding, output_padding, groups, dilation)
        eager = autograd = False
    else:
        checked = _check(x, weight, bias, stride, padding, output_padding, groups, dilation)
        eager = plain and not x.is_meta and not _is_compiling() and _tracing_state() is None
        # (an eager call under a torch.func transform or forward AD, or one that needs a gradient)
        autograd = eager and (_transformed() or _needs_grad(x, weight, bias))
    unbatched = x.dim() == 2
    if unbatched:
        x = x.unsqueeze(0)
    if eager:
        if autograd:
            y = _EagerAutograd.apply(x, weight, bias, *checked[:5])
        else:  # parameters given as 1-element tuples or integer-like types
            y = _run(x, weight, bias, *checked[:5])
    else:
        y = _OP(x, weight, bias, *checked[:5])
    return y.squeeze(0) if unbatched else y
