#include "problem.hpp"

#include <sstream>

namespace convt1d::detail {

void fail(convt1d_status status, const std::string& message) { throw ApiError(status, message); }

namespace {

[[noreturn]] void invalid(const std::string& message) { fail(CONVT1D_INVALID_ARGUMENT, "convt1d: " + message); }

void require_at_least(const char* field, int64_t value, int64_t minimum) {
  if (value < minimum) {
    std::ostringstream os;
    os << field << " must be >= " << minimum << ", got " << value;
    invalid(os.str());
  }
}

void require_enum(const char* field, int32_t value, int32_t count, const char* allowed) {
  if (value < 0 || value >= count) {
    std::ostringstream os;
    os << field << " must be one of " << allowed << ", got " << value;
    invalid(os.str());
  }
}

// a*b, or a failure naming what overflowed; all sizes must fit in int64 so 64-bit indexing is exact.
int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) {
    std::ostringstream os;
    os << what << " overflows 64-bit indexing (" << a << " * " << b << ")";
    invalid(os.str());
  }
  return r;
}

int64_t checked_add(int64_t a, int64_t b, const char* what) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    std::ostringstream os;
    os << what << " overflows 64-bit indexing (" << a << " + " << b << ")";
    invalid(os.str());
  }
  return r;
}

}  // namespace

int64_t output_length_unchecked(const convt1d_problem& p) {
  return (p.in_length - 1) * p.stride - 2 * p.padding + p.dilation * (p.kernel_size - 1) + p.output_padding + 1;
}

void validate(const convt1d_problem& p) {
  require_enum("dtype", p.dtype, 4, "{0 float32, 1 float16, 2 bfloat16, 3 float64}");
  require_enum("math", p.math, 2, "{0 tf32, 1 ieee}");
  require_enum("device", p.device, 2, "{0 cpu, 1 cuda}");
  require_enum("algorithm", p.algorithm, 6, "{0 auto, 1 direct, 2 implicit_gemm, 3 wgmma, 4 wgmma_stream, 5 narrow}");
  require_enum("has_bias", p.has_bias, 2, "{0, 1}");

  require_at_least("batch", p.batch, 0);
  require_at_least("in_channels", p.in_channels, 1);
  require_at_least("out_channels", p.out_channels, 1);
  require_at_least("in_length", p.in_length, 1);
  require_at_least("kernel_size", p.kernel_size, 1);
  require_at_least("stride", p.stride, 1);
  require_at_least("padding", p.padding, 0);
  require_at_least("output_padding", p.output_padding, 0);
  require_at_least("dilation", p.dilation, 1);
  require_at_least("groups", p.groups, 1);

  if (p.in_channels % p.groups != 0) {
    std::ostringstream os;
    os << "in_channels must be divisible by groups (" << p.groups << "), got in_channels " << p.in_channels;
    invalid(os.str());
  }
  if (p.out_channels % p.groups != 0) {
    std::ostringstream os;
    os << "out_channels must be divisible by groups (" << p.groups << "), got out_channels " << p.out_channels;
    invalid(os.str());
  }
  // PyTorch's rule: output_padding must be smaller than either stride or dilation.
  const int64_t limit = p.stride > p.dilation ? p.stride : p.dilation;
  if (p.output_padding >= limit) {
    std::ostringstream os;
    os << "output_padding must be smaller than max(stride, dilation) = " << limit << ", got output_padding "
       << p.output_padding << " (stride " << p.stride << ", dilation " << p.dilation << ")";
    invalid(os.str());
  }

  // out_length with every intermediate checked, then the element counts of x, weight and y.
  const int64_t span = checked_mul(p.in_length - 1, p.stride, "(in_length - 1) * stride");
  const int64_t taps = checked_mul(p.dilation, p.kernel_size - 1, "dilation * (kernel_size - 1)");
  const int64_t pad2 = checked_mul(p.padding, 2, "2 * padding");
  const int64_t grow = checked_add(checked_add(span, taps, "out_length"), p.output_padding + 1, "out_length");
  const int64_t out_length = grow - pad2;
  if (out_length < 1) {
    std::ostringstream os;
    os << "out_length = (in_length - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1"
       << " must be >= 1, got " << out_length << " (in_length " << p.in_length << ", stride " << p.stride
       << ", padding " << p.padding << ", dilation " << p.dilation << ", kernel_size " << p.kernel_size
       << ", output_padding " << p.output_padding << ")";
    invalid(os.str());
  }
  // Element and byte counts must fit in int64 (byte offsets are computed in 64-bit everywhere).
  const int64_t bytes = static_cast<int64_t>(dtype_size(p.dtype));
  checked_mul(checked_mul(checked_mul(p.batch, p.in_channels, "x size"), p.in_length, "x size"), bytes, "x bytes");
  checked_mul(checked_mul(checked_mul(p.in_channels, p.out_channels / p.groups, "weight size"), p.kernel_size,
                          "weight size"),
              bytes, "weight bytes");
  checked_mul(checked_mul(checked_mul(p.batch, p.out_channels, "y size"), out_length, "y size"), bytes, "y bytes");
}

std::size_t dtype_size(int32_t dtype) {
  switch (dtype) {
    case CONVT1D_FLOAT32: return 4;
    case CONVT1D_FLOAT16:
    case CONVT1D_BFLOAT16: return 2;
    default: return 8;
  }
}

const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case CONVT1D_FLOAT32: return "float32";
    case CONVT1D_FLOAT16: return "float16";
    case CONVT1D_BFLOAT16: return "bfloat16";
    case CONVT1D_FLOAT64: return "float64";
    default: return "unknown";
  }
}

const char* math_name(int32_t math) { return math == CONVT1D_MATH_IEEE ? "ieee" : "tf32"; }

Shape shape_of(const convt1d_problem& p) {
  validate(p);
  Shape s{};
  s.batch = p.batch;
  s.in_channels = p.in_channels;
  s.out_channels = p.out_channels;
  s.in_length = p.in_length;
  s.out_length = output_length_unchecked(p);
  s.kernel_size = p.kernel_size;
  s.stride = p.stride;
  s.padding = p.padding;
  s.dilation = p.dilation;
  s.groups = p.groups;
  s.in_per_group = p.in_channels / p.groups;
  s.out_per_group = p.out_channels / p.groups;
  return s;
}

}  // namespace convt1d::detail
