// convt1d — C++ API: a typed, throwing wrapper over the C ABI in convt1d.h. Header-only.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "convt1d/convt1d.h"

namespace convt1d {

enum class DType : int32_t {
  Float32 = CONVT1D_FLOAT32,
  Float16 = CONVT1D_FLOAT16,
  BFloat16 = CONVT1D_BFLOAT16,
  Float64 = CONVT1D_FLOAT64
};
enum class Math : int32_t { TF32 = CONVT1D_MATH_TF32, IEEE = CONVT1D_MATH_IEEE };
enum class Device : int32_t { CPU = CONVT1D_DEVICE_CPU, CUDA = CONVT1D_DEVICE_CUDA };
enum class Algorithm : int32_t {
  Auto = CONVT1D_ALGO_AUTO,
  Direct = CONVT1D_ALGO_DIRECT,
  ImplicitGemm = CONVT1D_ALGO_IMPLICIT_GEMM,
  Wgmma = CONVT1D_ALGO_WGMMA,
  WgmmaStream = CONVT1D_ALGO_WGMMA_STREAM,
  Narrow = CONVT1D_ALGO_NARROW
};

// Thrown for every non-OK status; what() is the library's message.
class Error : public std::runtime_error {
 public:
  Error(convt1d_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  convt1d_status status() const noexcept { return status_; }

 private:
  convt1d_status status_;
};

inline void check(convt1d_status status) {
  if (status != CONVT1D_OK) {
    std::string message = convt1d_last_error();
    if (message.empty()) message = convt1d_status_string(status);
    throw Error(status, message);
  }
}

// Value type around convt1d_problem with chainable setters.
struct Problem {
  convt1d_problem p;

  Problem(int64_t batch, int64_t in_channels, int64_t out_channels, int64_t in_length, int64_t kernel_size)
      : p(convt1d_problem_init(batch, in_channels, out_channels, in_length, kernel_size)) {}
  explicit Problem(const convt1d_problem& raw) : p(raw) {}

  Problem& stride(int64_t v) { p.stride = v; return *this; }
  Problem& padding(int64_t v) { p.padding = v; return *this; }
  Problem& output_padding(int64_t v) { p.output_padding = v; return *this; }
  Problem& dilation(int64_t v) { p.dilation = v; return *this; }
  Problem& groups(int64_t v) { p.groups = v; return *this; }
  Problem& bias(bool v) { p.has_bias = v ? 1 : 0; return *this; }
  Problem& dtype(DType v) { p.dtype = static_cast<int32_t>(v); return *this; }
  Problem& math(Math v) { p.math = static_cast<int32_t>(v); return *this; }
  Problem& device(Device v) { p.device = static_cast<int32_t>(v); return *this; }
  Problem& algorithm(Algorithm v) { p.algorithm = static_cast<int32_t>(v); return *this; }

  void validate() const { check(convt1d_validate(&p)); }
  int64_t out_length() const {
    int64_t n = 0;
    check(convt1d_output_length(&p, &n));
    return n;
  }
  int64_t x_elements() const { return p.batch * p.in_channels * p.in_length; }
  int64_t w_elements() const { return p.in_channels * (p.out_channels / p.groups) * p.kernel_size; }
  int64_t y_elements() const { return p.batch * p.out_channels * out_length(); }
};

// y = conv_transpose1d(x, weight, bias); see convt1d_forward.
inline void forward(const Problem& problem, const void* x, const void* weight, const void* bias, void* y,
                    CUstream_st* stream = nullptr) {
  check(convt1d_forward(&problem.p, x, weight, bias, y, stream));
}

// Packed weights (see convt1d_pack_weight): the problem's layout, the packing, and the call that
// reads them.
inline convt1d_packed_layout packed_weight_layout(const Problem& problem) {
  convt1d_packed_layout layout{};
  check(convt1d_packed_weight_layout(&problem.p, &layout));
  return layout;
}
inline void pack_weight(const Problem& problem, const void* weight, void* packed, const convt1d_packed_layout& layout,
                        CUstream_st* stream = nullptr) {
  check(convt1d_pack_weight(&problem.p, weight, packed, &layout, stream));
}
inline void forward_packed(const Problem& problem, const void* x, const void* weight, const void* packed,
                           const convt1d_packed_layout& layout, const void* bias, void* y,
                           CUstream_st* stream = nullptr) {
  check(convt1d_forward_packed(&problem.p, x, weight, packed, &layout, bias, y, stream));
}

inline int cuda_device_count() { return convt1d_cuda_device_count(); }

}  // namespace convt1d
