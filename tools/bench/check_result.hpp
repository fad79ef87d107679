// Correctness gate of the benchmark: before a kernel is timed its output is compared with the fp64
// reference on a sample of positions. A wrong kernel must never get a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convt1d/convt1d.h"

namespace convt1d::bench {

struct Position {
  int64_t b, co, t;
};

// Up to `random_count` random positions plus the first and last element of rows (b, co) — where
// padding, halos and tile edges go wrong — capped so the reference work stays bounded for huge
// reductions (C_in/groups * K per point).
std::vector<Position> sample_positions(const convt1d_problem& p, int random_count, uint64_t seed);

// The fp64 reference (convt1d::detail::reference_point) at each position; bias may be null.
std::vector<double> reference_at(const convt1d_problem& p, const double* x, const double* w, const double* bias,
                                 const std::vector<Position>& positions);

// Element (b, co, t) of a full typed output buffer, as double.
std::vector<double> gather_typed(const convt1d_problem& p, const void* y, const std::vector<Position>& positions);

struct CheckResult {
  bool ok = false;
  double rel_l2 = 0;       // ||got - ref|| / ||ref|| over the sample
  double max_abs_err = 0;  // largest |got - ref|
  int64_t non_finite = 0;  // NaN/Inf in got (0xFF poison left unwritten shows up here)
  int64_t checked = 0;
  std::string message;     // empty when ok; says what is wrong and where
};

// Passes when every sampled value is finite and the relative L2 error is <= tolerance.
CheckResult compare_to_reference(const std::vector<Position>& positions, const std::vector<double>& got,
                                 const std::vector<double>& ref, double tolerance);

}  // namespace convt1d::bench
