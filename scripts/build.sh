#!/usr/bin/env bash
# Configures and builds the library, the CLI and the C++ tests into build/ (or $CONVT1D_BUILD_DIR), and
# the C++ eager launcher of the Python package for the torch of $CONVT1D_PYTHON (else python3), where
# that interpreter has torch.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${CONVT1D_BUILD_DIR:-$root/build}"
if ! [ -f /usr/include/gtest/gtest.h ] && ! [ -f /usr/local/include/gtest/gtest.h ]; then
  echo "convt1d: GoogleTest missing, installing libgtest-dev" >&2
  (apt-get update -qq && apt-get install -y -qq libgtest-dev) >&2
fi
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release ${CONVT1D_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$(nproc)"
py="${CONVT1D_PYTHON:-python3}"
if "$py" -c "import torch" >/dev/null 2>&1; then
  "$py" "$root/scripts/build_torch_ext.py" "$build"
fi
