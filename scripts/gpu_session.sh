#!/usr/bin/env bash
# One call on the GPU machine: build, every test, sanitizers, then the benchmark; a short table last.
# Usage: bash scripts/gpu_session.sh [quick|full]   (quick skips the suite benchmark and racecheck)
# Logs and JSON go to $OUT (or build/session).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${OUT:-$root/build/session}"
mkdir -p "$out"
mode="${1:-full}"
cli=build/tools/convt1d
status=()
step() {  # step NAME COMMAND...: runs, logs to $out/NAME.log, records pass/fail
  local name="$1"; shift
  local t0=$SECONDS
  if "$@" > "$out/$name.log" 2>&1; then status+=("$(printf '%-22s ok    %4ds  %s' "$name" $((SECONDS - t0)) "$(tail -1 "$out/$name.log")")")
  else status+=("$(printf '%-22s FAIL  %4ds  %s' "$name" $((SECONDS - t0)) "$(tail -1 "$out/$name.log")")"); fi
}
export CONVT1D_CMAKE_ARGS="${CONVT1D_CMAKE_ARGS:-}"
step tests bash scripts/test.sh
step memcheck compute-sanitizer --tool memcheck --error-exitcode 1 $cli check --device cuda --count 12 --seed 7
if [ "$mode" = full ]; then
  step racecheck compute-sanitizer --tool racecheck --error-exitcode 1 $cli check --device cuda --count 4 --seed 3
fi
step bench_kb74 $cli bench --json "$out/kb74.json"
if [ "$mode" = full ]; then
  step bench_suite $cli bench --suite --mode tf32,bf16 --json "$out/suite.json"
  step plot env PYTHONPATH=python python3 -m convt1d.plot "$out/suite.json" -o "$out/suite.png"
fi
echo "==== C++/Python test summary"; grep -A4 "== summary" "$out/tests.log" || tail -30 "$out/tests.log"
echo "==== KB74"; tail -12 "$out/bench_kb74.log"
[ -f "$out/bench_suite.log" ] && { echo "==== suite"; tail -60 "$out/bench_suite.log"; }
echo "==== steps"; printf '%s\n' "${status[@]}"
