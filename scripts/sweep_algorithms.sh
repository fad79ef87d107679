#!/usr/bin/env bash
# AUTO's kernel choice against every algorithm it could force, on a GPU machine (docs/perf-log.md steps
# 177-181): `convt1d tune` over each suite file in every mode writes a table of the cases where a forced
# algorithm beats AUTO by more than 3 %, i.e. where AUTO's rules have drifted from the kernels. Rerun
# after any kernel change (a few minutes on an H100 for the three files below).
# Usage: bash scripts/sweep_algorithms.sh [SUITE.csv ...]   (tables and logs go to $OUT or build/sweep)
# Exits 1 if any table has an entry.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${OUT:-$root/build/sweep}"
mkdir -p "$out"
cli="${CONVT1D_BUILD_DIR:-$root/build}/tools/convt1d"
[ -x "$cli" ] || { echo "no $cli: run bash scripts/build.sh first" >&2; exit 2; }
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bench/suite.csv bench/training_shapes.csv bench/inference_shapes.csv)
status=0
for suite in "${suites[@]}"; do
  name="$(basename "$suite" .csv)"
  table="$out/$name.tsv"
  rm -f "$table"
  if ! "$cli" tune --suite "$suite" --mode tf32,ieee,fp16,bf16 --out "$table" > "$out/$name.log" 2>&1; then
    echo "== $name: convt1d tune failed (see $out/$name.log)"
    status=2
    continue
  fi
  entries="$(grep -cvE '^(#|[[:space:]]*$)' "$table" 2>/dev/null || true)"
  echo "== $name: ${entries:-0} case(s) where a forced algorithm beats AUTO by more than 3 %"
  if [ "${entries:-0}" -gt 0 ]; then
    grep -vE '^(#|[[:space:]]*$)' "$table"
    [ $status -ne 0 ] || status=1
  fi
done
exit $status
