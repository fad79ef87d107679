#!/usr/bin/env bash
# AUTO's kernel choice against every algorithm it could force, on a GPU machine (docs/perf-log.md steps
# 177-182): `convt1d tune` over each shape file in every mode writes a table of the cases where a forced
# algorithm beats AUTO by more than 3 % in two rounds, i.e. where AUTO's rules have drifted from the
# kernels. Rerun after any kernel change.
# Usage: bash scripts/sweep_algorithms.sh [SHAPES.csv ...]   (tables and logs go to $OUT or build/sweep)
# SWEEP_SKIP (comma-separated case ids, default X1) leaves cases out: X1, the suite's 2^31-element stress
# case, is T8's layer 32 times longer, and its host-side data (8.6 GB in fp32) costs more time than the
# rest of the suite's sweep.
# Exits 1 if any table has an entry, 2 if a run failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${OUT:-$root/build/sweep}"
mkdir -p "$out"
cli="${CONVT1D_BUILD_DIR:-$root/build}/tools/convt1d"
[ -x "$cli" ] || { echo "no $cli: run bash scripts/build.sh first" >&2; exit 2; }
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bench/suite.csv bench/training_shapes.csv bench/inference_shapes.csv)
skip=",${SWEEP_SKIP-X1},"
status=0
for suite in "${suites[@]}"; do
  name="$(basename "$suite" .csv)"
  table="$out/$name.tsv"
  rm -f "$table"
  # the file's case ids (first column of its data lines) less the skipped ones
  ids="$(awk -F, -v skip="$skip" '!/^#/ && $1 != "id" && NF > 1 && index(skip, "," $1 ",") == 0 {printf "%s%s", sep, $1; sep=","}' "$suite")"
  if [ -z "$ids" ]; then
    echo "== $name: no cases"
    continue
  fi
  t0=$SECONDS
  if ! "$cli" tune --suite "$suite" --case "$ids" --mode tf32,ieee,fp16,bf16 --out "$table" > "$out/$name.log" 2>&1; then
    echo "== $name: convt1d tune failed (see $out/$name.log)"
    status=2
    continue
  fi
  entries="$(grep -cvE '^(#|[[:space:]]*$)' "$table" 2>/dev/null || true)"
  echo "== $name ($((SECONDS - t0)) s): ${entries:-0} case(s) where a forced algorithm beats AUTO by more than 3 %"
  if [ "${entries:-0}" -gt 0 ]; then
    grep -vE '^(#|[[:space:]]*$)' "$table"
    [ $status -ne 0 ] || status=1
  fi
done
exit $status
