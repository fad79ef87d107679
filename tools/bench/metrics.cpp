#include "bench/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "problem.hpp"

namespace convt1d::bench {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

Traffic traffic_of(const convt1d_problem& p, std::size_t element_bytes) {
  const double e = static_cast<double>(element_bytes);
  const int64_t l_out = detail::output_length_unchecked(p);
  Traffic t;
  t.x = e * static_cast<double>(p.batch) * p.in_channels * p.in_length;
  t.w = e * static_cast<double>(p.in_channels) * (p.out_channels / p.groups) * p.kernel_size;
  t.bias = p.has_bias ? e * static_cast<double>(p.out_channels) : 0.0;
  t.y = e * static_cast<double>(p.batch) * p.out_channels * l_out;
  return t;
}

double flops_of(const convt1d_problem& p) {
  return 2.0 * static_cast<double>(p.batch) * p.in_channels * (p.out_channels / p.groups) * p.kernel_size *
         p.in_length;
}

double memory_floor_ms(double bytes, double copy_gbps) {
  if (!(copy_gbps > 0)) return kNaN;
  return bytes / (copy_gbps * 1e9) * 1e3;
}

double percent_of_floor(double floor_ms, double measured_ms) {
  if (!(floor_ms > 0) || !(measured_ms > 0)) return kNaN;
  return 100.0 * floor_ms / measured_ms;
}

double gbps(double bytes, double ms) { return ms > 0 ? bytes / (ms * 1e-3) / 1e9 : kNaN; }
double tflops(double flops, double ms) { return ms > 0 ? flops / (ms * 1e-3) / 1e12 : kNaN; }
double arithmetic_intensity(double flops, double bytes) { return bytes > 0 ? flops / bytes : kNaN; }

double speedup(double baseline_ms, double ours_ms) {
  if (!(baseline_ms > 0) || !(ours_ms > 0)) return kNaN;
  return baseline_ms / ours_ms;
}

Stats summarize(std::vector<double> samples) {
  Stats s;
  s.count = static_cast<int>(samples.size());
  if (samples.empty()) {
    s.median = s.min = s.max = kNaN;
    return s;
  }
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  s.median = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  s.min = samples.front();
  s.max = samples.back();
  return s;
}

double geometric_mean(const std::vector<double>& values) {
  double log_sum = 0;
  int n = 0;
  for (double v : values) {
    if (std::isfinite(v) && v > 0) {
      log_sum += std::log(v);
      ++n;
    }
  }
  return n ? std::exp(log_sum / n) : kNaN;
}

}  // namespace convt1d::bench
