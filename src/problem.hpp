// Validation and shape inference for convt1d_problem. Pure C++: no CUDA, no torch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "convt1d/convt1d.h"

namespace convt1d::detail {

// Internal failures carry the C status they map to; the C ABI layer turns them into codes + messages.
class ApiError : public std::runtime_error {
 public:
  ApiError(convt1d_status status, const std::string& message) : std::runtime_error(message), status(status) {}
  convt1d_status status;
};

[[noreturn]] void fail(convt1d_status status, const std::string& message);

// L_out by the formula, without checks (may be <= 0 for an invalid problem).
int64_t output_length_unchecked(const convt1d_problem& p);

// Throws ApiError(CONVT1D_INVALID_ARGUMENT) naming the field, what was expected and what was given.
void validate(const convt1d_problem& p);

std::size_t dtype_size(int32_t dtype);
const char* dtype_name(int32_t dtype);
const char* math_name(int32_t math);

// Sizes derived from a validated problem; everything the backends index with, in 64-bit.
struct Shape {
  int64_t batch, in_channels, out_channels, in_length, out_length, kernel_size;
  int64_t stride, padding, dilation, groups;
  int64_t in_per_group, out_per_group;
  int64_t x_elements() const { return batch * in_channels * in_length; }
  int64_t w_elements() const { return in_channels * out_per_group * kernel_size; }
  int64_t y_elements() const { return batch * out_channels * out_length; }
};
Shape shape_of(const convt1d_problem& p);  // validates first

}  // namespace convt1d::detail
