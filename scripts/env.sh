#!/usr/bin/env bash
# Sourced by the other scripts: sets CONVT1D_PYTHON to an interpreter that has everything in
# requirements.txt. Uses the system python3 when it already has them (the GPU machine, which has no
# network); otherwise keeps a virtual environment in a cache folder outside the clone, keyed by the
# hash of requirements.txt, and reuses it while that hash matches.
set -euo pipefail
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_probe='import torch, numpy, pytest, matplotlib'

if [ -n "${CONVT1D_PYTHON:-}" ]; then
  :
elif python3 -c "$_probe" >/dev/null 2>&1; then
  CONVT1D_PYTHON="$(command -v python3)"
else
  _hash="$(sha256sum "$_root/requirements.txt" | cut -c1-12)"
  _venv="${XDG_CACHE_HOME:-$HOME/.cache}/convt1d/venv-$_hash"
  if [ ! -f "$_venv/.complete" ]; then
    echo "convt1d: creating the Python environment in $_venv (PyTorch is large: about 2 minutes)" >&2
    rm -rf "$_venv"
    python3 -m venv "$_venv"
    "$_venv/bin/python" -m pip install --quiet --upgrade pip
    "$_venv/bin/python" -m pip install --quiet -r "$_root/requirements.txt"
    touch "$_venv/.complete"
  fi
  CONVT1D_PYTHON="$_venv/bin/python"
fi
export CONVT1D_PYTHON
