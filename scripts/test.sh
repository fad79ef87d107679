#!/usr/bin/env bash
# Builds everything and runs every test: the C++ suite (ctest), the Python suite (pytest) and, where a
# CUDA device exists, `convt1d check` across all backends. GPU tests skip with a reason elsewhere.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/env.sh
bash scripts/build.sh
build="${CONVT1D_BUILD_DIR:-$root/build}"
jobs="$(nproc)"

echo "== C++ tests (ctest)"
ctest --test-dir "$build" --output-on-failure -j "$jobs" 2>&1 | tee "$build/ctest.log" | grep -vE "^ *[0-9]+/[0-9]+ Test" || true
cpp_summary="$(grep -E "tests passed|tests failed" "$build/ctest.log" | tail -1)"
grep -qE "100% tests passed" "$build/ctest.log" || { echo "C++ tests FAILED: $cpp_summary"; exit 1; }

echo "== Python tests (pytest)"
export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
export CONVT1D_LIBRARY="$build/libconvt1d.so"
# Built by build.sh where the interpreter has torch and Python headers: then the tests must use it.
launcher="$build/_convt1d_launch$("$CONVT1D_PYTHON" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
if [ -f "$launcher" ]; then export CONVT1D_LAUNCHER=1; else echo "(C++ launcher not built: ctypes path only)"; fi
"$CONVT1D_PYTHON" -m pytest -q -rs -p no:cacheprovider tests/python 2>&1 | tee "$build/pytest.log"
py_status=${PIPESTATUS[0]}
py_summary="$(tail -1 "$build/pytest.log")"
[ "$py_status" -eq 0 ] || { echo "Python tests FAILED: $py_summary"; exit 1; }

check_summary="skipped (no CUDA device)"
if "$build/tools/convt1d" check --device cuda --count 60 > "$build/check.log" 2>&1; then
  check_summary="$(tail -1 "$build/check.log")"
  grep -q "CPU backend only" "$build/check.log" && check_summary="skipped (no CUDA device)"
else
  cat "$build/check.log"
  echo "convt1d check FAILED"
  exit 1
fi

echo
echo "== summary"
echo "C++ (ctest):      $cpp_summary"
echo "Python (pytest):  $py_summary"
echo "convt1d check:    $check_summary"
