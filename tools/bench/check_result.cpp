#include "bench/check_result.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "cpu/reference.hpp"
#include "numeric.hpp"
#include "problem.hpp"

namespace convt1d::bench {

namespace {

// Reference work allowed per check, in multiply-adds: keeps K=10000, C_in=1000 cases to seconds.
constexpr double kReferenceBudget = 4e8;
constexpr int kMinRandom = 64;
constexpr int64_t kMaxEdgeRows = 512;

std::string where(const Position& q) {
  std::ostringstream os;
  os << "y[" << q.b << "," << q.co << "," << q.t << "]";
  return os.str();
}

}  // namespace

std::vector<Position> sample_positions(const convt1d_problem& p, int random_count, uint64_t seed) {
  const detail::Shape s = detail::shape_of(p);
  std::vector<Position> out;
  if (s.y_elements() == 0) return out;
  const double per_point = static_cast<double>(s.in_per_group) * s.kernel_size;
  const int64_t affordable = static_cast<int64_t>(kReferenceBudget / std::max(1.0, per_point));
  const int64_t n_random = std::max<int64_t>(std::min<int64_t>(random_count, affordable / 2), kMinRandom);
  const int64_t rows = s.batch * s.out_channels;
  const int64_t n_edge_rows = std::max<int64_t>(std::min<int64_t>({rows, kMaxEdgeRows, affordable / 4}), 2);

  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick_b(0, s.batch - 1), pick_co(0, s.out_channels - 1),
      pick_t(0, s.out_length - 1), pick_row(0, rows - 1);
  for (int64_t i = 0; i < n_random; ++i) out.push_back({pick_b(rng), pick_co(rng), pick_t(rng)});
  for (int64_t i = 0; i < n_edge_rows && i < rows; ++i) {
    // the first and last rows always, random rows in between
    const int64_t row = i == 0 ? 0 : i == 1 ? rows - 1 : pick_row(rng);
    const int64_t b = row / s.out_channels, co = row % s.out_channels;
    out.push_back({b, co, 0});
    out.push_back({b, co, s.out_length - 1});
  }
  return out;
}

std::vector<double> reference_at(const convt1d_problem& p, const double* x, const double* w, const double* bias,
                                 const std::vector<Position>& positions) {
  std::vector<double> ref(positions.size());
  const int64_t n = static_cast<int64_t>(positions.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < n; ++i) {
    const Position& q = positions[i];
    ref[i] = detail::reference_point(p, x, w, bias, q.b, q.co, q.t);
  }
  return ref;
}

std::vector<double> gather_typed(const convt1d_problem& p, const void* y, const std::vector<Position>& positions) {
  const int64_t l_out = detail::output_length_unchecked(p);
  std::vector<double> got;
  got.reserve(positions.size());
  for (const Position& q : positions) {
    got.push_back(detail::load_as_double(p.dtype, y, (q.b * p.out_channels + q.co) * l_out + q.t));
  }
  return got;
}

CheckResult compare_to_reference(const std::vector<Position>& positions, const std::vector<double>& got,
                                 const std::vector<double>& ref, double tolerance) {
  CheckResult r;
  r.checked = static_cast<int64_t>(positions.size());
  if (got.size() != positions.size() || ref.size() != positions.size()) {
    r.message = "internal: " + std::to_string(got.size()) + " values and " + std::to_string(ref.size()) +
                " references for " + std::to_string(positions.size()) + " positions";
    return r;
  }
  double err2 = 0, ref2 = 0;
  std::size_t worst = 0, first_bad = positions.size();
  for (std::size_t i = 0; i < positions.size(); ++i) {
    if (!std::isfinite(got[i])) {
      if (r.non_finite++ == 0) first_bad = i;
      continue;
    }
    const double e = std::abs(got[i] - ref[i]);
    err2 += e * e;
    ref2 += ref[i] * ref[i];
    if (e > r.max_abs_err) {
      r.max_abs_err = e;
      worst = i;
    }
  }
  r.rel_l2 = std::sqrt(err2) / std::max(std::sqrt(ref2), 1e-300);
  std::ostringstream os;
  os.precision(3);
  if (positions.empty()) {
    r.ok = true;  // empty output (batch 0): nothing can be wrong
  } else if (r.non_finite > 0) {
    os << r.non_finite << " of " << r.checked << " sampled outputs are NaN/Inf (first at "
       << where(positions[first_bad]) << ": unwritten or overflowed)";
  } else if (!(r.rel_l2 <= tolerance)) {
    os << "relative L2 error " << std::scientific << r.rel_l2 << " > tolerance " << tolerance
       << "; worst " << where(positions[worst]) << " = " << got[worst] << ", reference " << ref[worst];
  } else {
    r.ok = true;
  }
  r.message = os.str();
  return r;
}

}  // namespace convt1d::bench
