// When `convt1d tune` records a forced algorithm in place of AUTO's choice (tools/bench/tune.cpp).
#pragma once

namespace convt1d::bench {

// A forced algorithm must beat AUTO by more than this margin...
constexpr double kTuneMargin = 0.03;

inline bool beats_auto(double auto_ms, double forced_ms) {
  return auto_ms > 0 && forced_ms > 0 && forced_ms < auto_ms * (1 - kTuneMargin);
}

// ...twice: in the first pass, which times AUTO and then each algorithm over all the cases, and in a
// confirmation round that times the two again, back to back, over just the cases it won, the algorithm
// first. The medians of one kernel move by up to 5 % between passes (perf-log step 182: T1 bf16 0.0112
// and 0.0107 ms, IEEE G2 1.29 and 1.23-1.25 ms, AUTO and `--algo wgmma` running the same kernel), which
// one pass, or two in the same order, would record as a win.
inline bool tune_records(double auto_ms, double forced_ms, double auto_again_ms, double forced_again_ms) {
  return beats_auto(auto_ms, forced_ms) && beats_auto(auto_again_ms, forced_again_ms);
}

}  // namespace convt1d::bench
