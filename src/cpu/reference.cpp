#include "cpu/reference.hpp"

#include "problem.hpp"

namespace convt1d::detail {

namespace {

double point(const Shape& s, bool has_bias, const double* x, const double* w, const double* bias, int64_t b,
             int64_t co, int64_t t) {
  const int64_t g = co / s.out_per_group;
  const int64_t co_in_group = co % s.out_per_group;
  double acc = (has_bias && bias) ? bias[co] : 0.0;
  for (int64_t ci = g * s.in_per_group; ci < (g + 1) * s.in_per_group; ++ci) {
    for (int64_t k = 0; k < s.kernel_size; ++k) {
      const int64_t u = t + s.padding - k * s.dilation;  // = l * stride for a contributing input l
      if (u < 0 || u % s.stride != 0) continue;
      const int64_t l = u / s.stride;
      if (l >= s.in_length) continue;
      acc += w[(ci * s.out_per_group + co_in_group) * s.kernel_size + k] * x[(b * s.in_channels + ci) * s.in_length + l];
    }
  }
  return acc;
}

}  // namespace

double reference_point(const convt1d_problem& p, const double* x, const double* w, const double* bias, int64_t b,
                       int64_t co, int64_t t) {
  return point(shape_of(p), p.has_bias != 0, x, w, bias, b, co, t);
}

void reference_forward(const convt1d_problem& p, const double* x, const double* w, const double* bias, double* y) {
  const Shape s = shape_of(p);
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t co = 0; co < s.out_channels; ++co)
      for (int64_t t = 0; t < s.out_length; ++t)
        y[(b * s.out_channels + co) * s.out_length + t] = point(s, p.has_bias != 0, x, w, bias, b, co, t);
}

}  // namespace convt1d::detail
