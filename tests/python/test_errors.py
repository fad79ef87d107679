"""Bad inputs: each raises the documented exception type, naming the argument and what was given."""

from __future__ import annotations

import pytest
import torch

import convt1d
from convt1d import _lib

X = torch.randn(2, 4, 9)
W = torch.randn(4, 3, 3)
B = torch.randn(3)

# (id, x, weight, bias, kwargs, exception type, substrings that must all appear in the message)
BAD = [
    ("x_not_tensor", [[1.0]], W, None, {}, TypeError, ["x", "torch.Tensor", "list"]),
    ("weight_not_tensor", X, 3.0, None, {}, TypeError, ["weight", "torch.Tensor", "float"]),
    ("bias_not_tensor", X, W, [1, 2, 3], {}, TypeError, ["bias", "torch.Tensor", "list"]),
    ("x_1d", torch.randn(9), W, None, {}, ValueError, ["x", "1-D", "(9,)"]),
    ("x_4d", torch.randn(1, 2, 4, 9), W, None, {}, ValueError, ["x", "4-D"]),
    ("weight_2d", X, torch.randn(4, 3), None, {}, ValueError, ["weight", "3-D", "(4, 3)"]),
    ("bias_2d", X, W, torch.randn(3, 1), {}, ValueError, ["bias", "1-D", "(3, 1)"]),
    ("bias_wrong_length", X, W, torch.randn(5), {}, ValueError, ["bias", "3", "(5,)"]),
    ("channel_mismatch", torch.randn(2, 5, 9), W, None, {}, ValueError, ["weight.shape[0]", "4", "5"]),
    ("groups_not_dividing", X, W, None, {"groups": 3}, ValueError, ["groups", "3", "in_channels = 4"]),
    ("weight_dtype_mismatch", X, W.double(), None, {}, TypeError, ["weight", "torch.float64", "torch.float32"]),
    ("bias_dtype_mismatch", X, W, B.half(), {}, TypeError, ["bias", "torch.float16"]),
    ("int_dtype", X.long(), W.long(), None, {}, TypeError, ["x", "torch.int64", "float32"]),
    ("complex_dtype", X.to(torch.complex64), W, None, {}, TypeError, ["x", "complex64"]),
    ("bias_device_mismatch", X, W, torch.randn(3, device="meta"), {}, ValueError, ["bias", "meta", "cpu"]),
    ("weight_device_mismatch", X, torch.randn(4, 3, 3, device="meta"), None, {}, ValueError,
     ["weight", "meta", "cpu"]),
    ("stride_zero", X, W, None, {"stride": 0}, ValueError, ["stride", ">= 1", "got 0"]),
    ("stride_negative_tuple", X, W, None, {"stride": (-2,)}, ValueError, ["stride", "got -2"]),
    ("dilation_zero", X, W, None, {"dilation": 0}, ValueError, ["dilation", ">= 1", "got 0"]),
    ("groups_zero", X, W, None, {"groups": 0}, ValueError, ["groups", ">= 1", "got 0"]),
    ("padding_negative", X, W, None, {"padding": -1}, ValueError, ["padding", ">= 0", "got -1"]),
    ("output_padding_negative", X, W, None, {"output_padding": -1}, ValueError, ["output_padding", "got -1"]),
    ("output_padding_too_big", X, W, None, {"stride": 2, "dilation": 3, "output_padding": 3}, ValueError,
     ["output_padding", "max(stride, dilation) = 3", "got output_padding 3"]),
    ("output_length_below_one", torch.randn(1, 4, 2), W, None, {"padding": 3}, ValueError,
     ["output length", "got -2", "padding 3"]),
    ("stride_float", X, W, None, {"stride": 2.0}, TypeError, ["stride", "int", "float"]),
    ("padding_string", X, W, None, {"padding": "same"}, TypeError, ["padding", "int", "'same'"]),
    ("dilation_bool", X, W, None, {"dilation": True}, TypeError, ["dilation", "bool"]),
    ("stride_tuple_too_long", X, W, None, {"stride": (1, 2)}, ValueError, ["stride", "1-element", "length 2"]),
    ("padding_empty_tuple", X, W, None, {"padding": ()}, ValueError, ["padding", "length 0"]),
    ("groups_float_in_tuple", X, W, None, {"groups": (1.5,)}, TypeError, ["groups", "float"]),
    ("zero_length_input", torch.randn(2, 4, 0), W, None, {}, ValueError, ["x length", "got 0"]),
    ("zero_kernel", X, torch.randn(4, 3, 0), None, {}, ValueError, ["kernel_size", "(4, 3, 0)"]),
]


@pytest.mark.parametrize("x, weight, bias, kwargs, exc, needles", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input(x, weight, bias, kwargs, exc, needles):
    with pytest.raises(exc) as info:
        convt1d.conv_transpose1d(x, weight, bias, **kwargs)
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


def test_there_are_at_least_twenty_bad_inputs():
    assert len(BAD) >= 20


def test_cuda_request_without_device_is_reported():
    """A CUDA tensor on a machine without one never reaches the library; torch refuses first."""
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present; covered by test_cuda.py")
    with pytest.raises((RuntimeError, AssertionError)):
        torch.randn(1, device="cuda")


def test_library_error_becomes_runtime_error_with_its_message():
    """A problem the library rejects (here on purpose, bypassing the Python checks) surfaces its text."""
    problem = _lib.Problem(1, 4, 6, 9, 3, 0, 0, 0, 1, 1, 0, _lib.DTYPE_FLOAT32, _lib.MATH_IEEE,
                           _lib.DEVICE_CPU, _lib.ALGO_AUTO)
    x = torch.randn(1, 4, 9)
    w = torch.randn(4, 6, 3)
    y = torch.empty(1, 6, 11)
    with pytest.raises(RuntimeError, match="stride must be >= 1, got 0"):
        _lib.forward(problem, x.data_ptr(), w.data_ptr(), None, y.data_ptr(), None)


def test_library_cuda_without_device_is_runtime_error():
    if _lib.cuda_device_count() > 0:
        pytest.skip("a CUDA device is present")
    problem = _lib.Problem(1, 4, 6, 9, 3, 1, 0, 0, 1, 1, 0, _lib.DTYPE_FLOAT32, _lib.MATH_TF32,
                           _lib.DEVICE_CUDA, _lib.ALGO_AUTO)
    x = torch.randn(1, 4, 9)
    w = torch.randn(4, 6, 3)
    y = torch.empty(1, 6, 11)
    with pytest.raises(RuntimeError) as info:
        _lib.forward(problem, x.data_ptr(), w.data_ptr(), None, y.data_ptr(), None)
    assert str(info.value).startswith("convt1d:")


@pytest.mark.parametrize("x, weight, bias, kwargs, exc, needles", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_after_good_calls_of_the_same_tensors(x, weight, bias, kwargs, exc, needles):
    # Validated call signatures are remembered (ops._SIGNATURES): a good call first, then the bad one,
    # twice, must still raise the same error each time, and leave nothing remembered for it.
    convt1d.conv_transpose1d(X, W, B)
    remembered = _remembered()
    for _ in range(2):
        with pytest.raises(exc) as info:
            convt1d.conv_transpose1d(x, weight, bias, **kwargs)
        for needle in needles:
            assert needle in str(info.value)
    assert _remembered() == remembered


def _remembered() -> tuple[int, int]:
    """Signatures remembered by ops.py and by the C++ launcher (0 where it is not built)."""
    launcher = convt1d._launcher.module
    return len(convt1d.ops._SIGNATURES), launcher.known_count() if launcher is not None else 0


def test_repeated_calls_reuse_one_validated_signature():
    convt1d.ops._forget_signatures()
    built = int(convt1d._launcher.module is not None)
    first = convt1d.conv_transpose1d(X, W, B, stride=2)
    second = convt1d.conv_transpose1d(X.clone(), W.clone(), B.clone(), stride=2)
    assert _remembered() == (1, built)
    assert torch.equal(first, second)
    convt1d.conv_transpose1d(X, W, B, stride=3)  # another signature
    assert _remembered() == (2, 2 * built)
    unbatched = convt1d.conv_transpose1d(X[0], W, B, stride=3)  # and an unbatched one, twice
    assert torch.equal(convt1d.conv_transpose1d(X[0], W, B, stride=3), unbatched)
    assert _remembered() == (3, 3 * built)
