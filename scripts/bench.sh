#!/usr/bin/env bash
# The main job: builds, then benchmarks KernelBench #74 in all four modes against cuDNN (heuristic and
# best algorithm) on the GPU. Without a GPU it says so and times the CPU backend at a reduced size.
# Extra arguments go to `convt1d bench` (e.g. --suite, --case S1, --mode tf32, --json out.json).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/build.sh
exec "${CONVT1D_BUILD_DIR:-$root/build}/tools/convt1d" bench "$@"
