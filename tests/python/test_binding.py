"""The ctypes binding: struct layout, library lookup, version, poisoned outputs, math-mode selection."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import convt1d
from convt1d import _lib, ops

PYTHON_DIR = Path(__file__).resolve().parents[2] / "python"


def test_problem_struct_layout_matches_header():
    names = [f[0] for f in _lib.Problem._fields_]
    assert names[:10] == ["batch", "in_channels", "out_channels", "in_length", "kernel_size", "stride",
                          "padding", "output_padding", "dilation", "groups"]
    assert names[10:] == ["has_bias", "dtype", "math", "device", "algorithm"]
    assert ctypes.sizeof(_lib.Problem) == 10 * 8 + 5 * 4 + 4  # tail padding to 8-byte alignment
    assert _lib.Problem.has_bias.offset == 80


def test_problem_round_trips_through_the_library():
    """convt1d_output_length reads every field the way the header lays them out."""
    p = _lib.Problem(3, 4, 6, 17, 5, 3, 2, 1, 2, 2, 1, _lib.DTYPE_FLOAT64, _lib.MATH_IEEE, _lib.DEVICE_CPU,
                     _lib.ALGO_AUTO)
    assert _lib.output_length(p) == (17 - 1) * 3 - 2 * 2 + 2 * (5 - 1) + 1 + 1


def test_version():
    assert isinstance(convt1d.__version__, str)
    assert convt1d.__version__ and convt1d.__version__[0].isdigit()


def test_missing_library_message_says_how_to_build(tmp_path):
    env = dict(os.environ, CONVT1D_LIBRARY=str(tmp_path / "nope.so"), PYTHONPATH=str(PYTHON_DIR))
    proc = subprocess.run([sys.executable, "-c", "import convt1d; convt1d.conv_transpose1d"], env=env,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr and "bash scripts/build.sh" in proc.stderr


def test_package_imports_without_touching_the_library(tmp_path):
    """Helpers that need no native code (e.g. plotting) must import even without a build."""
    env = dict(os.environ, CONVT1D_LIBRARY=str(tmp_path / "nope.so"), PYTHONPATH=str(PYTHON_DIR))
    proc = subprocess.run([sys.executable, "-c", "import convt1d"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("dtype_code, dtype", [(_lib.DTYPE_FLOAT64, torch.float64),
                                               (_lib.DTYPE_FLOAT32, torch.float32)])
def test_direct_call_writes_every_element_of_a_poisoned_output(dtype_code, dtype):
    gen = torch.Generator().manual_seed(11)
    x = torch.randn(2, 6, 13, generator=gen, dtype=torch.float64).to(dtype)
    w = torch.randn(6, 2, 4, generator=gen, dtype=torch.float64).to(dtype)
    b = torch.randn(6, generator=gen, dtype=torch.float64).to(dtype)
    p = _lib.Problem(2, 6, 6, 13, 4, 3, 1, 2, 2, 3, 1, dtype_code, _lib.MATH_IEEE, _lib.DEVICE_CPU,
                     _lib.ALGO_AUTO)
    y = torch.full((2, 6, _lib.output_length(p)), float("nan"), dtype=dtype)
    _lib.forward(p, x.data_ptr(), w.data_ptr(), b.data_ptr(), y.data_ptr(), None)
    assert not torch.isnan(y).any()
    ref = F.conv_transpose1d(x.double(), w.double(), b.double(), 3, 1, 2, 3, 2)
    tol = 1e-13 if dtype == torch.float64 else 1e-6
    torch.testing.assert_close(y.double(), ref, rtol=tol, atol=tol)


# ---- fp32 math mode: decided at call time from torch's cuDNN switches (testable without a GPU) ----


def test_math_default_is_tf32(restore_cudnn_flags):
    assert ops._cuda_fp32_math() == _lib.MATH_TF32


def test_math_follows_allow_tf32(restore_cudnn_flags):
    torch.backends.cudnn.allow_tf32 = False
    assert ops._cuda_fp32_math() == _lib.MATH_IEEE
    torch.backends.cudnn.allow_tf32 = True
    assert ops._cuda_fp32_math() == _lib.MATH_TF32


@pytest.mark.skipif(not hasattr(torch.backends.cudnn, "conv"), reason="torch has no cudnn.conv.fp32_precision")
def test_math_follows_fp32_precision(restore_cudnn_flags):
    conv = torch.backends.cudnn.conv
    conv.fp32_precision = "ieee"
    assert ops._cuda_fp32_math() == _lib.MATH_IEEE
    conv.fp32_precision = "tf32"
    assert ops._cuda_fp32_math() == _lib.MATH_TF32
    # "none" defers to allow_tf32 (or, where torch refuses to read it after mixed APIs, to IEEE)
    conv.fp32_precision = "none"
    assert ops._cuda_fp32_math() == _lib.MATH_IEEE
