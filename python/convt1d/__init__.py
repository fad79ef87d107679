"""convt1d: fast 1-D transposed convolution with torch.nn.functional.conv_transpose1d semantics.

    import convt1d
    y = convt1d.conv_transpose1d(x, weight, bias, stride=2, padding=1)
    layer = convt1d.nn.ConvTranspose1d(32, 64, 5)      # drop-in for torch.nn.ConvTranspose1d
    model = convt1d.convert(model)                      # switch an existing model in place
    convt1d.freeze_weights(model)                       # inference: weights packed once, not per call

The native library (libconvt1d.so) is loaded on first use of anything that needs it, so helpers that
do not (e.g. plotting saved results) work without a build.
"""

from __future__ import annotations

import importlib

__all__ = ["conv_transpose1d", "ConvTranspose1d", "ModelNew", "convert", "freeze_weights", "nn", "ops", "__version__"]

# name -> (submodule, attribute or None for the submodule itself)
_LAZY = {
    "conv_transpose1d": ("ops", "conv_transpose1d"),
    "ConvTranspose1d": ("nn", "ConvTranspose1d"),
    "ModelNew": ("nn", "ModelNew"),
    "convert": ("nn", "convert"),
    "freeze_weights": ("nn", "freeze_weights"),
    "nn": ("nn", None),
    "ops": ("ops", None),
}


def __getattr__(name: str):
    if name == "__version__":
        from . import _lib

        value = _lib.version()
    elif name in _LAZY:
        module_name, attr = _LAZY[name]
        module = importlib.import_module(f".{module_name}", __name__)
        value = module if attr is None else getattr(module, attr)
    else:
        raise AttributeError(f"module 'convt1d' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
