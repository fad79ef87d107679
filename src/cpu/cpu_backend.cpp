#include "cpu/cpu_backend.hpp"

#include <vector>

#include "numeric.hpp"
#include "problem.hpp"

namespace convt1d::detail {

// One output row y[b, co, :] at a time: scatter each input row through each tap into a double
// accumulator row (contiguous inner loops that vectorise), then round once into the output dtype.
void cpu_forward(const convt1d_problem& p, const void* x, const void* w, const void* bias, void* y) {
  const Shape s = shape_of(p);
  const int64_t rows = s.batch * s.out_channels;
#pragma omp parallel
  {
    std::vector<double> acc(static_cast<size_t>(s.out_length));
    std::vector<double> xrow(static_cast<size_t>(s.in_length));
#pragma omp for schedule(dynamic, 1)
    for (int64_t row = 0; row < rows; ++row) {
      const int64_t b = row / s.out_channels, co = row % s.out_channels;
      const int64_t g = co / s.out_per_group, co_in_group = co % s.out_per_group;
      const double init = p.has_bias ? load_as_double(p.dtype, bias, co) : 0.0;
      for (auto& a : acc) a = init;
      for (int64_t ci = g * s.in_per_group; ci < (g + 1) * s.in_per_group; ++ci) {
        const int64_t xbase = (b * s.in_channels + ci) * s.in_length;
        for (int64_t l = 0; l < s.in_length; ++l) xrow[l] = load_as_double(p.dtype, x, xbase + l);
        for (int64_t k = 0; k < s.kernel_size; ++k) {
          const double wv = load_as_double(p.dtype, w, (ci * s.out_per_group + co_in_group) * s.kernel_size + k);
          // t = l*stride - padding + k*dilation must land in [0, out_length)
          const int64_t offset = k * s.dilation - s.padding;
          const int64_t l_begin = offset >= 0 ? 0 : (-offset + s.stride - 1) / s.stride;
          int64_t l_end = s.in_length;
          const int64_t last = (s.out_length - 1 - offset);  // largest l*stride allowed
          if (last < 0) continue;
          if (last / s.stride + 1 < l_end) l_end = last / s.stride + 1;
          for (int64_t l = l_begin; l < l_end; ++l) acc[l * s.stride + offset] += wv * xrow[l];
        }
      }
      const int64_t ybase = row * s.out_length;
      for (int64_t t = 0; t < s.out_length; ++t) store_from_double(p.dtype, y, ybase + t, acc[t]);
    }
  }
}

}  // namespace convt1d::detail
