// Shared helpers for the convt1d C++ tests: typed host buffers, a random problem generator, an
// independent fp64 *scatter* reference (the library's reference is a gather), and error metrics.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "convt1d/convt1d.h"
#include "numeric.hpp"
#include "plan.hpp"

namespace t1d {

using Rng = std::mt19937_64;

inline int64_t rand_int(Rng& rng, int64_t lo, int64_t hi) {  // inclusive
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

inline std::size_t dtype_bytes(int32_t dtype) {
  switch (dtype) {
    case CONVT1D_FLOAT32: return 4;
    case CONVT1D_FLOAT16: return 2;
    case CONVT1D_BFLOAT16: return 2;
    case CONVT1D_FLOAT64: return 8;
  }
  ADD_FAILURE() << "unknown dtype " << dtype;
  return 1;
}

inline const char* dtype_str(int32_t dtype) {
  switch (dtype) {
    case CONVT1D_FLOAT32: return "fp32";
    case CONVT1D_FLOAT16: return "fp16";
    case CONVT1D_BFLOAT16: return "bf16";
    case CONVT1D_FLOAT64: return "fp64";
  }
  return "?";
}

inline const char* algo_str(int32_t a) { return convt1d::detail::algorithm_name(a); }

constexpr int32_t kAllDtypes[] = {CONVT1D_FLOAT32, CONVT1D_FLOAT16, CONVT1D_BFLOAT16, CONVT1D_FLOAT64};

// The shape formula, computed here independently of the library.
inline int64_t formula_out_length(int64_t in_length, int64_t kernel_size, int64_t stride, int64_t padding,
                                  int64_t output_padding, int64_t dilation) {
  return (in_length - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1;
}
inline int64_t formula_out_length(const convt1d_problem& p) {
  return formula_out_length(p.in_length, p.kernel_size, p.stride, p.padding, p.output_padding, p.dilation);
}

inline int64_t x_count(const convt1d_problem& p) { return p.batch * p.in_channels * p.in_length; }
inline int64_t w_count(const convt1d_problem& p) {
  return p.in_channels * (p.out_channels / p.groups) * p.kernel_size;
}
inline int64_t y_count(const convt1d_problem& p) { return p.batch * p.out_channels * formula_out_length(p); }

inline std::string describe(const convt1d_problem& p) {
  std::ostringstream s;
  s << "{B " << p.batch << ", C_in " << p.in_channels << ", C_out " << p.out_channels << ", L_in " << p.in_length
    << ", K " << p.kernel_size << ", stride " << p.stride << ", pad " << p.padding << ", out_pad "
    << p.output_padding << ", dil " << p.dilation << ", groups " << p.groups << ", bias " << p.has_bias << ", "
    << dtype_str(p.dtype) << (p.math == CONVT1D_MATH_IEEE ? " ieee" : " tf32") << ", "
    << (p.device == CONVT1D_DEVICE_CPU ? "cpu" : "cuda") << ", " << algo_str(p.algorithm)
    << " -> L_out " << formula_out_length(p) << "}";
  return s.str();
}

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
inline bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}
inline bool contains_ci(const std::string& hay, const std::string& needle) {
  return contains(lower(hay), lower(needle));
}
// True when `word` occurs in `hay` not surrounded by identifier characters (so "x" does not match "max").
inline bool contains_word(const std::string& hay, const std::string& word) {
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::size_t pos = hay.find(word); pos != std::string::npos; pos = hay.find(word, pos + 1)) {
    const bool left_ok = pos == 0 || !ident(hay[pos - 1]);
    const std::size_t end = pos + word.size();
    const bool right_ok = end >= hay.size() || !ident(hay[end]);
    if (left_ok && right_ok) return true;
  }
  return false;
}

// A host buffer of `count` elements of `dtype` (never a null data pointer, even for count 0).
class TypedBuffer {
 public:
  TypedBuffer() = default;
  TypedBuffer(int32_t dtype, int64_t count)
      : dtype_(dtype), count_(count), bytes_(static_cast<std::size_t>(std::max<int64_t>(count, 1)) * dtype_bytes(dtype)) {}
  static TypedBuffer from_double(int32_t dtype, const std::vector<double>& v) {
    TypedBuffer b(dtype, static_cast<int64_t>(v.size()));
    for (int64_t i = 0; i < b.count_; ++i) b.set(i, v[static_cast<std::size_t>(i)]);
    return b;
  }
  int32_t dtype() const { return dtype_; }
  int64_t count() const { return count_; }
  std::size_t size_bytes() const { return static_cast<std::size_t>(count_) * dtype_bytes(dtype_); }
  void* data() { return bytes_.data(); }
  const void* data() const { return bytes_.data(); }
  double get(int64_t i) const { return convt1d::detail::load_as_double(dtype_, bytes_.data(), i); }
  void set(int64_t i, double v) { convt1d::detail::store_from_double(dtype_, bytes_.data(), i, v); }
  void poison() { std::memset(bytes_.data(), 0xFF, bytes_.size()); }  // NaN in every float format
  std::vector<double> to_double() const {
    std::vector<double> out(static_cast<std::size_t>(count_));
    for (int64_t i = 0; i < count_; ++i) out[static_cast<std::size_t>(i)] = get(i);
    return out;
  }

 private:
  int32_t dtype_ = CONVT1D_FLOAT32;
  int64_t count_ = 0;
  std::vector<unsigned char> bytes_;
};

// Unit roundoff of the storage format: half the distance from 1 to the next representable number.
inline double unit_roundoff(int32_t dtype) {
  switch (dtype) {
    case CONVT1D_FLOAT32: return std::ldexp(1.0, -24);
    case CONVT1D_FLOAT16: return std::ldexp(1.0, -11);
    case CONVT1D_BFLOAT16: return std::ldexp(1.0, -8);
    default: return std::ldexp(1.0, -53);
  }
}

// Rounds v to the dtype (nearest even) and back.
inline double round_to(int32_t dtype, double v) {
  unsigned char tmp[8];
  convt1d::detail::store_from_double(dtype, tmp, 0, v);
  return convt1d::detail::load_as_double(dtype, tmp, 0);
}

// n values uniform in (-1, 1), or in (0, 1) when `positive`, each exactly representable in `dtype`,
// never zero.
inline std::vector<double> random_values(Rng& rng, int64_t n, int32_t dtype, bool positive = false) {
  std::uniform_real_distribution<double> u(positive ? 0.0 : -1.0, 1.0);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (auto& e : v) {
    do {
      e = round_to(dtype, u(rng));
    } while (e == 0.0 || std::fabs(e) >= 1.0);
  }
  return v;
}

// Independent fp64 reference, scatter form: every input element x[b, ci, l] adds W[ci, co, k] * x to
// y[b, g*Cog + co, l*stride - padding + k*dilation] when that index is inside [0, L_out).
inline std::vector<double> scatter_reference(const convt1d_problem& p, const std::vector<double>& x,
                                             const std::vector<double>& w, const double* bias) {
  const int64_t L_out = formula_out_length(p);
  const int64_t cig = p.in_channels / p.groups, cog = p.out_channels / p.groups;
  std::vector<double> y(static_cast<std::size_t>(p.batch * p.out_channels * L_out), 0.0);
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t ci = 0; ci < p.in_channels; ++ci) {
      const int64_t g = ci / cig;
      const double* xrow = &x[static_cast<std::size_t>((b * p.in_channels + ci) * p.in_length)];
      for (int64_t co = 0; co < cog; ++co) {
        const double* wrow = &w[static_cast<std::size_t>((ci * cog + co) * p.kernel_size)];
        double* yrow = &y[static_cast<std::size_t>((b * p.out_channels + g * cog + co) * L_out)];
        for (int64_t l = 0; l < p.in_length; ++l) {
          const double xv = xrow[l];
          for (int64_t k = 0; k < p.kernel_size; ++k) {
            const int64_t t = l * p.stride - p.padding + k * p.dilation;
            if (t >= 0 && t < L_out) yrow[t] += wrow[k] * xv;
          }
        }
      }
    }
  }
  if (p.has_bias && bias != nullptr) {
    for (int64_t b = 0; b < p.batch; ++b)
      for (int64_t co = 0; co < p.out_channels; ++co)
        for (int64_t t = 0; t < L_out; ++t) y[static_cast<std::size_t>((b * p.out_channels + co) * L_out + t)] += bias[co];
  }
  return y;
}

struct Comparison {
  double rel_error = 0;   // ||got - ref||_F / ||ref||_F (absolute when ref is all zero)
  double max_abs = 0;     // max |got - ref| over finite elements
  double ref_max = 0;     // max |ref|: the scale max_abs is judged against
  int64_t non_finite = 0; // NaN/inf in got where ref is finite (unwritten poison shows up here)
  int64_t first_non_finite = -1;
  // max |got - ref| / max |ref|: catches one badly wrong element that the L2 norm would dilute.
  double scaled_max() const { return ref_max > 0 ? max_abs / ref_max : max_abs; }
  std::string str() const {
    std::ostringstream s;
    s << "rel_error " << rel_error << ", max_abs " << max_abs << " (scaled " << scaled_max() << ", max|ref| "
      << ref_max << "), non-finite " << non_finite;
    if (first_non_finite >= 0) s << " (first at flat index " << first_non_finite << ")";
    return s.str();
  }
};

inline Comparison compare(const std::vector<double>& got, const std::vector<double>& ref) {
  Comparison c;
  EXPECT_EQ(got.size(), ref.size());
  long double num = 0, den = 0;
  const std::size_t n = std::min(got.size(), ref.size());
  for (std::size_t i = 0; i < n; ++i) {
    c.ref_max = std::max(c.ref_max, std::fabs(ref[i]));
    if (!std::isfinite(got[i])) {
      if (c.non_finite++ == 0) c.first_non_finite = static_cast<int64_t>(i);
      continue;
    }
    const long double d = static_cast<long double>(got[i]) - ref[i];
    num += d * d;
    den += static_cast<long double>(ref[i]) * ref[i];
    c.max_abs = std::max(c.max_abs, static_cast<double>(std::fabs(d)));
  }
  c.rel_error = static_cast<double>(den > 0 ? std::sqrt(num / den) : std::sqrt(num));
  return c;
}

// Random valid problem generator.
struct ProblemRanges {
  int64_t min_batch = 0, max_batch = 3;
  int64_t max_in_per_group = 8, max_out_per_group = 8;
  int64_t max_groups = 4;
  int64_t min_in_length = 1, max_in_length = 64;
  int64_t max_stride = 16, max_kernel = 32, max_dilation = 5;
  double depthwise_probability = 0.15;
  // Upper bound on the gather work B*C_out*L_out*(C_in/groups)*K, to keep references cheap.
  int64_t max_work = 4'000'000;
  int32_t device = CONVT1D_DEVICE_CPU;
};

inline convt1d_problem random_problem(Rng& rng, const ProblemRanges& r, int32_t dtype) {
  for (;;) {
    const int64_t K = rand_int(rng, 1, r.max_kernel);
    const int64_t L_in = rand_int(rng, r.min_in_length, r.max_in_length);
    convt1d_problem p = convt1d_problem_init(rand_int(rng, r.min_batch, r.max_batch), 1, 1, L_in, K);
    if (std::uniform_real_distribution<double>(0, 1)(rng) < r.depthwise_probability) {
      const int64_t c = rand_int(rng, 1, 4 * r.max_in_per_group);
      p.in_channels = p.out_channels = p.groups = c;
    } else {
      p.groups = rand_int(rng, 1, r.max_groups);
      p.in_channels = p.groups * rand_int(rng, 1, r.max_in_per_group);
      p.out_channels = p.groups * rand_int(rng, 1, r.max_out_per_group);
    }
    p.stride = rand_int(rng, 1, r.max_stride);
    p.dilation = rand_int(rng, 1, r.max_dilation);
    p.padding = rand_int(rng, 0, K * p.dilation);
    p.output_padding = rand_int(rng, 0, std::max(p.stride, p.dilation) - 1);
    p.has_bias = static_cast<int32_t>(rand_int(rng, 0, 1));
    p.dtype = dtype;
    p.math = CONVT1D_MATH_TF32;
    p.device = r.device;
    p.algorithm = CONVT1D_ALGO_AUTO;
    const int64_t L_out = formula_out_length(p);
    if (L_out < 1) continue;
    const int64_t work = std::max<int64_t>(p.batch, 1) * p.out_channels * L_out * (p.in_channels / p.groups) * K;
    if (work > r.max_work) continue;
    return p;
  }
}

// Random inputs for a problem, exactly representable in `dtype`.
struct Inputs {
  std::vector<double> x, w, bias;
  const double* bias_ptr() const { return bias.empty() ? nullptr : bias.data(); }
};
// Zero-mean inputs by default; `positive` ones (post-ReLU activations, say) make every product of a
// sum one-signed, so rounding that always truncates adds up instead of cancelling.
inline Inputs random_inputs(Rng& rng, const convt1d_problem& p, int32_t dtype, bool positive = false) {
  Inputs in;
  in.x = random_values(rng, x_count(p), dtype, positive);
  in.w = random_values(rng, w_count(p), dtype, positive);
  if (p.has_bias) in.bias = random_values(rng, p.out_channels, dtype, positive);
  return in;
}

// The scatter reference on a problem's inputs.
inline std::vector<double> reference_of(const convt1d_problem& p, const Inputs& in) {
  return scatter_reference(p, in.x, in.w, in.bias_ptr());
}

// A few hand-picked corner problems (dtype/device filled in by the caller).
inline std::vector<convt1d_problem> corner_problems() {
  std::vector<convt1d_problem> v;
  auto add = [&](int64_t B, int64_t ci, int64_t co, int64_t L, int64_t K, int64_t s, int64_t pad, int64_t op,
                 int64_t d, int64_t g, int32_t bias) {
    convt1d_problem p = convt1d_problem_init(B, ci, co, L, K);
    p.stride = s; p.padding = pad; p.output_padding = op; p.dilation = d; p.groups = g; p.has_bias = bias;
    v.push_back(p);
  };
  add(1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0);       // smallest possible
  add(2, 3, 5, 7, 1, 4, 0, 3, 1, 1, 1);       // K 1, stride 4: gaps that only bias fills
  add(2, 3, 5, 7, 2, 9, 0, 8, 1, 1, 1);       // stride > K*dilation, max output_padding
  add(1, 4, 4, 9, 3, 1, 0, 2, 3, 1, 1);       // output_padding from dilation (stride 1)
  add(2, 6, 6, 13, 5, 2, 4, 1, 2, 6, 1);      // depthwise
  add(1, 6, 9, 11, 4, 3, 2, 2, 2, 3, 0);      // groups, C_in/g != C_out/g
  add(3, 2, 3, 5, 32, 16, 0, 15, 1, 1, 1);    // the largest stride and kernel of the random range
  add(1, 2, 2, 4, 6, 1, 12, 0, 5, 1, 0);      // heavy padding: L_out 3 - 24 + 25 + 1 = 5
  add(1, 2, 3, 2, 5, 1, 4, 0, 3, 1, 1);       // L_out 1 - 8 + 12 + 1 = 6
  add(0, 4, 8, 10, 3, 2, 1, 1, 1, 2, 1);      // empty batch
  add(2, 32, 64, 257, 5, 1, 0, 0, 3, 1, 0);   // KB74-like, short
  add(1, 1, 1, 1, 7, 3, 5, 2, 2, 1, 1);       // one input, padding cuts taps: L_out 0 - 10 + 12 + 2 + 1 = 5
  // Stride and dilation past 46340: the direct kernel's 32-bit tap walk would overflow its residue
  // product (u mod 50000 times the inverse 49999), so it must take 64-bit indices here.
  add(1, 1, 2, 2, 3, 50000, 0, 0, 49999, 1, 1);
  for (const auto& p : v) EXPECT_GE(formula_out_length(p), 1) << "corner problem typo: " << describe(p);
  return v;
}

}  // namespace t1d
