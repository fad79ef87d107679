#!/usr/bin/env bash
# One call on the GPU machine: build, every test, sanitizers, then the benchmark; a short table last.
# Usage: bash scripts/gpu_session.sh [full|tests|bench|quick]
#   full = tests + bench; tests = build, ctest, pytest, check, memcheck; bench = racecheck, KB74, profile,
#   suite, plot, PyTorch-level benchmark; quick = tests + KB74 only.
# Logs and JSON go to $OUT (or build/session).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${OUT:-$root/build/session}"
mkdir -p "$out"
mode="${1:-full}"
cli=build/tools/convt1d
status=()
# step NAME COMMAND...: runs, logs to $out/NAME.log, records pass/fail for the table at the end and
# also prints that line at once (and appends it to $out/steps.txt), so that a session cut off by a
# time limit still shows the steps it finished.
step() {
  local name="$1"; shift
  local t0=$SECONDS verdict=ok
  "$@" > "$out/$name.log" 2>&1 || verdict=FAIL
  local line
  line="$(printf '%-22s %-4s  %4ds  %s' "$name" "$verdict" $((SECONDS - t0)) "$(tail -1 "$out/$name.log")")"
  status+=("$line")
  echo "step: $line"
  echo "$line" >> "$out/steps.txt"
}
: > "$out/steps.txt"
export CONVT1D_CMAKE_ARGS="${CONVT1D_CMAKE_ARGS:-}"
if [ "$mode" != bench ]; then  # tests: build, every test suite, memcheck
  step tests bash scripts/test.sh
  step memcheck compute-sanitizer --tool memcheck --error-exitcode 1 $cli check --device cuda --count 12 --seed 7
  # the Hopper kernel on layers that exercise it (padded rows, windows, two blocks per SM)
  step memcheck_wgmma compute-sanitizer --tool memcheck --error-exitcode 1 $cli bench --case S1,T5,S13 --mode bf16 \
    --algo wgmma --quick --repeats 2 --warmup 0 --no-baseline --no-roofline
  # TF32 on it: W^T and x^T packed in one launch, the main kernel launched as its dependent (S9, T5)
  step memcheck_wgmma_tf32 compute-sanitizer --tool memcheck --error-exitcode 1 $cli bench --case S1,S9,T5 --mode tf32 \
    --algo wgmma --quick --repeats 2 --warmup 0 --no-baseline --no-roofline
  # IEEE on them: raw weights (S1), three passes on packed W^T (S9), small-part accumulators (T7)
  step memcheck_wgmma_ieee compute-sanitizer --tool memcheck --error-exitcode 1 $cli bench --case S1,S9,T7 --mode ieee \
    --algo wgmma --quick --repeats 2 --warmup 0 --no-baseline --no-roofline
  # the streaming kernel in every mode it runs (bench/sanitizer_layers.csv), phases rotated in R10, row boxes in R18, residue maps in R19
  for m in tf32 ieee bf16; do
    step memcheck_stream_$m compute-sanitizer --tool memcheck --error-exitcode 1 $cli bench --suite bench/sanitizer_layers.csv \
      --case R1,R2,R10,R18,R19 --mode $m --algo wgmma_stream --quick --repeats 1 --warmup 0 --no-baseline --no-roofline
  done
  # its phase blocks (StreamTiling::phase_blocks), unpaced (R4) and paced in clusters (R5)
  step memcheck_phase_stream compute-sanitizer --tool memcheck --error-exitcode 1 $cli bench --suite bench/sanitizer_layers.csv \
    --case R4,R5 --mode tf32,bf16 --algo wgmma_stream --quick --repeats 1 --warmup 0 --no-baseline --no-roofline
  # tiles in runs (StreamTiling::tile_run): TF32 on every phase (R6), 16-bit channel groups (R7)
  step memcheck_tile_runs_tf32 compute-sanitizer --tool memcheck --error-exitcode 1 $cli bench \
    --suite bench/sanitizer_layers.csv --case R6 --mode tf32 --algo wgmma_stream --quick --repeats 1 --warmup 0 \
    --no-baseline --no-roofline
  step memcheck_tile_runs_bf16 compute-sanitizer --tool memcheck --error-exitcode 1 $cli bench \
    --suite bench/sanitizer_layers.csv --case R7 --mode bf16 --algo wgmma_stream --quick --repeats 1 --warmup 0 \
    --no-baseline --no-roofline
  # the wgmma kernel's persistent blocks (WgmmaTiling::persistent): register epilogue (R3; R13 also TF32), Z (R11;
  # R12 one chunk per tile); tiles of one window of several rows (R13, R14); wide tiles (R15 Z, R16 persistent);
  # joined batch rows (R17, 16-bit)
  step memcheck_wgmma_persistent compute-sanitizer --tool memcheck --error-exitcode 1 $cli bench \
    --suite bench/sanitizer_layers.csv --case R3,R11,R12,R13,R14,R15,R16,R17 --mode bf16,fp16,tf32 --algo wgmma --quick --repeats 1 --warmup 0 \
    --no-baseline --no-roofline
  # IEEE sums in segments (WgmmaTiling::segment_sums): raw weights (R8), packed W^T tiles (R9)
  step memcheck_ieee_segments compute-sanitizer --tool memcheck --error-exitcode 1 $cli bench \
    --suite bench/sanitizer_layers.csv --case R8,R9 --mode ieee --algo wgmma --quick --repeats 1 --warmup 0 \
    --no-baseline --no-roofline
  # GEMM + col2im (K 10000; 16-bit through fp32 copies), and the TF32 wgmma kernel on a few-channel layer (32-row tiles)
  step memcheck_col2im compute-sanitizer --tool memcheck --error-exitcode 1 $cli bench --case P3 --mode tf32,ieee,bf16 \
    --quick --repeats 2 --warmup 0 --no-baseline --no-roofline
  step memcheck_wgmma_rows32 compute-sanitizer --tool memcheck --error-exitcode 1 $cli bench --case L7 --mode tf32 \
    --algo wgmma --quick --repeats 2 --warmup 0 --no-baseline --no-roofline
  # the narrow kernels: mma reduction (Conv-TasNet's decoder, odd rows; HTDemucs' tdec0, 64 rows in
  # windows of two passes) and the FMA one (IEEE: 16 slices)
  step memcheck_narrow compute-sanitizer --tool memcheck --error-exitcode 1 $cli bench --case L7 --mode tf32,ieee,bf16 \
    --quick --repeats 2 --warmup 0 --no-baseline --no-roofline
  step memcheck_narrow_rows64 compute-sanitizer --tool memcheck --error-exitcode 1 $cli bench --case L5 --mode tf32,fp16 \
    --algo narrow --quick --repeats 2 --warmup 0 --no-baseline --no-roofline
fi
if [ "$mode" != tests ]; then  # bench: racecheck, the headline, profile, the suite and the PyTorch level
  [ -x "$cli" ] || step build bash scripts/build.sh
  [ "$mode" = quick ] || step racecheck compute-sanitizer --tool racecheck --error-exitcode 1 $cli check --device cuda --count 4 --seed 3
  [ "$mode" = quick ] || step racecheck_wgmma compute-sanitizer --tool racecheck --error-exitcode 1 $cli bench --case S13 \
    --mode bf16 --algo wgmma --quick --repeats 1 --warmup 0 --no-baseline --no-roofline
  [ "$mode" = quick ] || step racecheck_wgmma_raw compute-sanitizer --tool racecheck --error-exitcode 1 $cli bench \
    --case S1 --mode tf32,ieee --algo wgmma --quick --repeats 1 --warmup 0 --no-baseline --no-roofline
  [ "$mode" = quick ] || step racecheck_wgmma_persistent compute-sanitizer --tool racecheck --error-exitcode 1 $cli \
    bench --suite bench/sanitizer_layers.csv --case R3,R11,R12,R13,R14,R15,R16,R17 --mode bf16,tf32 --algo wgmma --quick --repeats 1 --warmup 0 \
    --no-baseline --no-roofline
  [ "$mode" = quick ] || step racecheck_ieee_segments compute-sanitizer --tool racecheck --error-exitcode 1 $cli \
    bench --suite bench/sanitizer_layers.csv --case R8,R9 --mode ieee --algo wgmma --quick --repeats 1 --warmup 0 \
    --no-baseline --no-roofline
  [ "$mode" = quick ] || step racecheck_stream compute-sanitizer --tool racecheck --error-exitcode 1 $cli bench \
    --suite bench/sanitizer_layers.csv --case R2,R10,R18,R19 --mode bf16,tf32 --algo wgmma_stream --quick --repeats 1 --warmup 0 \
    --no-baseline --no-roofline
  [ "$mode" = quick ] || step racecheck_phase_stream compute-sanitizer --tool racecheck --error-exitcode 1 $cli bench \
    --suite bench/sanitizer_layers.csv --case R4,R5 --mode bf16 --algo wgmma_stream --quick --repeats 1 --warmup 0 \
    --no-baseline --no-roofline
  [ "$mode" = quick ] || step racecheck_tile_runs compute-sanitizer --tool racecheck --error-exitcode 1 $cli bench \
    --suite bench/sanitizer_layers.csv --case R7 --mode bf16 --algo wgmma_stream --quick --repeats 1 --warmup 0 \
    --no-baseline --no-roofline
  [ "$mode" = quick ] || step synccheck_phase_stream compute-sanitizer --tool synccheck --error-exitcode 1 $cli bench \
    --suite bench/sanitizer_layers.csv --case R5 --mode bf16 --algo wgmma_stream --quick --repeats 1 --warmup 0 \
    --no-baseline --no-roofline
  [ "$mode" = quick ] || step racecheck_narrow compute-sanitizer --tool racecheck --error-exitcode 1 $cli bench \
    --case L7,L5 --mode bf16 --algo narrow --quick --repeats 1 --warmup 0 --no-baseline --no-roofline
  [ "$mode" = quick ] || step racecheck_narrow_fma compute-sanitizer --tool racecheck --error-exitcode 1 $cli bench \
    --case L7 --mode ieee --algo narrow --quick --repeats 1 --warmup 0 --no-baseline --no-roofline
  step bench_kb74 $cli bench --json "$out/kb74.json"
  if [ "$mode" != quick ]; then
    step profile $cli profile --case KB74 --mode tf32
    step bench_suite $cli bench --suite --mode tf32,bf16 --json "$out/suite.json"
    step plot env PYTHONPATH=python python3 -m convt1d.plot "$out/suite.json" -o "$out/suite.png"
    step torch_bench env PYTHONPATH=python CONVT1D_LIBRARY=build/libconvt1d.so python3 -m convt1d.bench --case KB74,S1 --mode tf32,bf16 --json "$out/torch.json"
    step torch_overhead env PYTHONPATH=python CONVT1D_LIBRARY=build/libconvt1d.so python3 -m convt1d.bench --overhead
    step bench_large_fp16 $cli bench --case T3,T5,T7,L1 --mode fp16
    step torch_stacks env PYTHONPATH=python CONVT1D_LIBRARY=build/libconvt1d.so python3 -m convt1d.bench --stacks --mode tf32,bf16 --json "$out/stacks.json"
  fi
fi
[ -f "$out/tests.log" ] && { echo "==== C++/Python test summary"; grep -A4 "== summary" "$out/tests.log" || tail -30 "$out/tests.log"; }
[ -f "$out/bench_kb74.log" ] && { echo "==== KB74"; tail -12 "$out/bench_kb74.log"; }
[ -f "$out/profile.log" ] && { echo "==== profile"; tail -8 "$out/profile.log"; }
[ -f "$out/torch_bench.log" ] && { echo "==== PyTorch level"; tail -14 "$out/torch_bench.log"; }
[ -f "$out/torch_stacks.log" ] && { echo "==== stacks"; tail -12 "$out/torch_stacks.log"; }
[ -f "$out/torch_overhead.log" ] && { echo "==== host cost per call"; tail -5 "$out/torch_overhead.log"; }
[ -f "$out/bench_large_fp16.log" ] && { echo "==== large layers fp16"; tail -7 "$out/bench_large_fp16.log"; }
[ -f "$out/bench_suite.log" ] && { echo "==== suite"; tail -60 "$out/bench_suite.log"; }
echo "==== steps"; printf '%s\n' "${status[@]}"
