"""The C++ eager launcher (``_launch.cpp``), where it was built for the running torch.

It sits next to the library (``scripts/build_torch_ext.py`` builds it into the build folder) and is
bound to the entry points of the library that ``_lib`` loaded. ``launch`` is None when it is missing,
was built for another torch, or cannot load; ops.py then calls the library through ctypes, which gives
the same results at ~3 us more per call. ``CONVT1D_LAUNCHER=0`` turns it off (to compare the paths);
``CONVT1D_LAUNCHER=1`` makes its absence an ImportError (the test scripts set it after building it).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sysconfig

import torch

from . import _lib

NAME = "_convt1d_launch"


def _load():
    """(module or None, why it is None)."""
    setting = os.environ.get("CONVT1D_LAUNCHER", "")
    if setting == "0":
        return None, "turned off by CONVT1D_LAUNCHER=0"
    path = _lib.path.parent / (NAME + sysconfig.get_config_var("EXT_SUFFIX"))
    module, reason = None, None
    if not path.is_file():
        reason = f"{path} does not exist (scripts/build_torch_ext.py builds it)"
    else:
        try:
            loader = importlib.machinery.ExtensionFileLoader(NAME, str(path))
            spec = importlib.util.spec_from_file_location(NAME, path, loader=loader)
            module = importlib.util.module_from_spec(spec)
            loader.exec_module(module)
        except ImportError as e:
            module, reason = None, f"{path} did not load: {e}"
        else:
            if module.torch_version != torch.__version__:
                module, reason = None, f"{path} was built for torch {module.torch_version}, not {torch.__version__}"
    if module is None:
        if setting == "1":
            raise ImportError(f"convt1d: CONVT1D_LAUNCHER=1 but the C++ launcher is unavailable: {reason}")
        return None, reason
    module.bind(_lib.address(_lib.lib.convt1d_forward), _lib.address(_lib.lib.convt1d_forward_packed),
                _lib.address(_lib.lib.convt1d_packed_weight_layout), _lib.address(_lib.lib.convt1d_last_error),
                _lib.address(_lib.lib.convt1d_status_string))
    return module, None


module, unavailable_reason = _load()
launch = module.launch if module is not None else None
