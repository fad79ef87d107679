"""ctypes binding of the C ABI in include/convt1d/convt1d.h.

Everything here is resolved once at import: the library handle, the function objects with their
argtypes, and the problem struct layout. The eager call path in ops.py only builds (or reuses) a
problem struct and calls ``forward``.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

_LIB_NAME = "libconvt1d.so"

# Enum values of convt1d.h.
DTYPE_FLOAT32, DTYPE_FLOAT16, DTYPE_BFLOAT16, DTYPE_FLOAT64 = 0, 1, 2, 3
MATH_TF32, MATH_IEEE = 0, 1
DEVICE_CPU, DEVICE_CUDA = 0, 1
ALGO_AUTO = 0


class Problem(ctypes.Structure):
    """Mirror of ``convt1d_problem``: ten int64 fields, then five int32 fields, in header order."""

    _fields_ = [
        ("batch", ctypes.c_int64),
        ("in_channels", ctypes.c_int64),
        ("out_channels", ctypes.c_int64),
        ("in_length", ctypes.c_int64),
        ("kernel_size", ctypes.c_int64),
        ("stride", ctypes.c_int64),
        ("padding", ctypes.c_int64),
        ("output_padding", ctypes.c_int64),
        ("dilation", ctypes.c_int64),
        ("groups", ctypes.c_int64),
        ("has_bias", ctypes.c_int32),
        ("dtype", ctypes.c_int32),
        ("math", ctypes.c_int32),
        ("device", ctypes.c_int32),
        ("algorithm", ctypes.c_int32),
    ]


class PackedLayout(ctypes.Structure):
    """Mirror of ``convt1d_packed_layout``: the bytes of packed weights and their arrangement's id."""

    _fields_ = [("bytes", ctypes.c_uint64), ("id", ctypes.c_uint64)]


def _candidates() -> list[Path]:
    env = os.environ.get("CONVT1D_LIBRARY")
    if env:
        # An explicit choice is never silently replaced by another copy.
        return [Path(env)]
    here = Path(__file__).resolve().parent
    return [here / _LIB_NAME, here.parent.parent / "build" / _LIB_NAME]


def _load() -> tuple[ctypes.CDLL, Path]:
    tried = _candidates()
    for path in tried:
        if path.is_file():
            try:
                return ctypes.CDLL(str(path)), path
            except OSError as e:
                raise ImportError(f"convt1d: found {path} but could not load it: {e}") from e
    where = ", ".join(str(p) for p in tried)
    raise ImportError(
        f"convt1d: {_LIB_NAME} not found (looked in: {where}). Build it with `bash scripts/build.sh` "
        f"from the repository root, or point the CONVT1D_LIBRARY environment variable at the library."
    )


lib, path = _load()


def _bind(name, restype, *argtypes):
    """lib.<name> with its C signature declared (ctypes would otherwise guess ints)."""
    function = getattr(lib, name)
    function.argtypes = list(argtypes)
    function.restype = restype
    return function


_P, _VOID, _LAYOUT = ctypes.POINTER(Problem), ctypes.c_void_p, ctypes.POINTER(PackedLayout)
_STATUS, _TEXT = ctypes.c_int, ctypes.c_char_p
# (problem, x, weight, bias, y, stream)
_forward = _bind("convt1d_forward", _STATUS, _P, _VOID, _VOID, _VOID, _VOID, _VOID)
_packed_weight_layout = _bind("convt1d_packed_weight_layout", _STATUS, _P, _LAYOUT)
# (problem, weight, packed, layout, stream)
_pack_weight = _bind("convt1d_pack_weight", _STATUS, _P, _VOID, _VOID, _LAYOUT, _VOID)
# (problem, x, weight, packed, layout, bias, y, stream)
_forward_packed = _bind("convt1d_forward_packed", _STATUS, _P, _VOID, _VOID, _VOID, _LAYOUT, _VOID, _VOID, _VOID)
_last_error = _bind("convt1d_last_error", _TEXT)
_status_string = _bind("convt1d_status_string", _TEXT, ctypes.c_int)
_output_length = _bind("convt1d_output_length", _STATUS, _P, ctypes.POINTER(ctypes.c_int64))
_cuda_device_count = _bind("convt1d_cuda_device_count", ctypes.c_int)
_version = _bind("convt1d_version", _TEXT)


def address(function) -> int:
    """The C address of one of the library's functions (for the C++ launcher, which calls them directly)."""
    return ctypes.cast(function, ctypes.c_void_p).value


def raise_status(status: int) -> None:
    """Turns a failed status into RuntimeError carrying the library's own message."""
    message = (_last_error() or b"").decode("utf-8", "replace")
    name = (_status_string(status) or b"").decode("utf-8", "replace")
    raise RuntimeError(message or f"convt1d: call failed with status {status} ({name})")


def forward(problem: Problem, x: int, weight: int, bias: int | None, y: int, stream: int | None) -> None:
    status = _forward(problem, x, weight, bias, y, stream)
    if status:
        raise_status(status)


def packed_weight_layout(problem: Problem) -> PackedLayout:
    """The layout convt1d_pack_weight writes for this problem on the current device ({0, 0}: none)."""
    layout = PackedLayout()
    status = _packed_weight_layout(problem, ctypes.byref(layout))
    if status:
        raise_status(status)
    return layout


def pack_weight(problem: Problem, weight: int, packed: int, layout: PackedLayout, stream: int | None) -> None:
    status = _pack_weight(problem, weight, packed, layout, stream)
    if status:
        raise_status(status)


def output_length(problem: Problem) -> int:
    out = ctypes.c_int64(0)
    status = _output_length(problem, ctypes.byref(out))
    if status:
        raise_status(status)
    return out.value


def cuda_device_count() -> int:
    return int(_cuda_device_count())


def version() -> str:
    return _version().decode("ascii", "replace")
