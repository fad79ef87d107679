"""Builds the C++ eager launcher (python/convt1d/_launch.cpp) for the torch of this interpreter into a
build folder, next to libconvt1d.so: `python scripts/build_torch_ext.py BUILD_DIR`.

A PyTorch extension must be compiled against the torch that imports it (headers, C++ ABI flag,
pybind11), so it is built by the interpreter that will run it, with torch's own include and library
paths. Exit status 0 also when it cannot be built here (no torch, no Python headers): the package then
calls the library through ctypes. A compiler error is a failure (status 1).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "python" / "convt1d" / "_launch.cpp"
NAME = "_convt1d_launch"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: build_torch_ext.py BUILD_DIR", file=sys.stderr)
        return 2
    out_dir = Path(argv[0]).resolve()
    try:
        import torch
        from torch.utils import cpp_extension
    except ImportError as e:
        print(f"convt1d: C++ launcher not built (no torch in {sys.executable}: {e}); ctypes path only")
        return 0
    python_include = sysconfig.get_paths()["include"]
    if not (Path(python_include) / "Python.h").is_file():
        print(f"convt1d: C++ launcher not built ({python_include}/Python.h missing: install python3-dev); "
              f"ctypes path only")
        return 0
    target = out_dir / (NAME + sysconfig.get_config_var("EXT_SUFFIX"))
    stamp = out_dir / (NAME + ".torch-version")
    inputs = [SOURCE, ROOT / "include" / "convt1d" / "convt1d.h", Path(__file__)]
    if (target.is_file() and stamp.is_file() and stamp.read_text() == torch.__version__
            and all(target.stat().st_mtime >= p.stat().st_mtime for p in inputs)):
        return 0  # up to date
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        os.environ.get("CXX", "c++"), "-O2", "-std=c++17", "-shared", "-fPIC", "-fvisibility=hidden",
        f"-D_GLIBCXX_USE_CXX11_ABI={int(torch._C._GLIBCXX_USE_CXX11_ABI)}",
        f'-DCONVT1D_TORCH_VERSION="{torch.__version__}"',
        *(f"-I{p}" for p in cpp_extension.include_paths()),
        f"-I{python_include}", f"-I{ROOT / 'include'}",
        str(SOURCE), "-o", str(target),
        *(f"-L{p}" for p in cpp_extension.library_paths()),
        "-lc10", "-ltorch", "-ltorch_cpu", "-ltorch_python",
    ]
    print(f"convt1d: building the C++ launcher for torch {torch.__version__}: {target}")
    if subprocess.run(cmd).returncode != 0:
        print("convt1d: C++ launcher build FAILED: " + " ".join(shlex.quote(c) for c in cmd), file=sys.stderr)
        return 1
    stamp.write_text(torch.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
