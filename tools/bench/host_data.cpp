#include "bench/host_data.hpp"

#include <algorithm>
#include <cmath>

#include "numeric.hpp"
#include "problem.hpp"

namespace convt1d::bench {

namespace {

uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

HostTensor random_tensor(int64_t count, int32_t dtype, uint64_t seed, double scale) {
  HostTensor t;
  t.dtype = dtype;
  t.count = count;
  t.bytes.resize(static_cast<std::size_t>(count) * detail::dtype_size(dtype));
  t.values.resize(static_cast<std::size_t>(count));
  const uint64_t base = splitmix64(seed);
  void* out = t.bytes.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    // 53 random bits -> [0, 1) -> [-scale, scale)
    const double u = static_cast<double>(splitmix64(base + static_cast<uint64_t>(i)) >> 11) * 0x1.0p-53;
    detail::store_from_double(dtype, out, i, (2.0 * u - 1.0) * scale);
    t.values[i] = detail::load_as_double(dtype, out, i);
  }
  return t;
}

ProblemData random_problem_data(const convt1d_problem& p, uint64_t seed) {
  const detail::Shape s = detail::shape_of(p);
  const double fan_in = static_cast<double>(s.out_per_group * s.kernel_size);
  const double w_scale = 1.0 / std::sqrt(std::max(1.0, fan_in));
  ProblemData d;
  d.x = random_tensor(s.x_elements(), p.dtype, splitmix64(seed ^ 0x1111), 1.0);
  d.w = random_tensor(s.w_elements(), p.dtype, splitmix64(seed ^ 0x2222), w_scale);
  if (p.has_bias) d.bias = random_tensor(s.out_channels, p.dtype, splitmix64(seed ^ 0x3333), w_scale);
  return d;
}

uint64_t case_seed(uint64_t run_seed, const std::string& case_id) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a of the id
  for (unsigned char c : case_id) h = (h ^ c) * 1099511628211ull;
  return splitmix64(run_seed ^ h);
}

}  // namespace convt1d::bench
