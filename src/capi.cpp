// The C ABI: every entry point catches, records the message for convt1d_last_error(), and returns a code.
#include <new>
#include <string>

#include "backend.hpp"
#include "convt1d/convt1d.h"
#include "dispatch.hpp"
#include "problem.hpp"

namespace {

thread_local std::string g_last_error;

template <class F>
convt1d_status guarded(F&& body) {
  try {
    body();
    g_last_error.clear();
    return CONVT1D_OK;
  } catch (const convt1d::detail::ApiError& e) {
    g_last_error = e.what();
    return e.status;
  } catch (const std::bad_alloc&) {
    g_last_error = "convt1d: out of host memory";
    return CONVT1D_INTERNAL_ERROR;
  } catch (const std::exception& e) {
    g_last_error = std::string("convt1d: internal error: ") + e.what();
    return CONVT1D_INTERNAL_ERROR;
  } catch (...) {
    g_last_error = "convt1d: internal error (unknown exception)";
    return CONVT1D_INTERNAL_ERROR;
  }
}

void require_problem(const convt1d_problem* p) {
  if (p == nullptr)
    convt1d::detail::fail(CONVT1D_INVALID_ARGUMENT, "convt1d: problem must be a non-null pointer, got NULL");
}

void require_layout_pointer(const convt1d_packed_layout* layout) {
  if (layout == nullptr)
    convt1d::detail::fail(CONVT1D_INVALID_ARGUMENT, "convt1d: layout must be a non-null pointer, got NULL");
}

}  // namespace

extern "C" {

convt1d_problem convt1d_problem_init(int64_t batch, int64_t in_channels, int64_t out_channels, int64_t in_length,
                                     int64_t kernel_size) {
  convt1d_problem p{};
  p.batch = batch;
  p.in_channels = in_channels;
  p.out_channels = out_channels;
  p.in_length = in_length;
  p.kernel_size = kernel_size;
  p.stride = 1;
  p.padding = 0;
  p.output_padding = 0;
  p.dilation = 1;
  p.groups = 1;
  p.has_bias = 0;
  p.dtype = CONVT1D_FLOAT32;
  p.math = CONVT1D_MATH_TF32;
  p.device = CONVT1D_DEVICE_CUDA;
  p.algorithm = CONVT1D_ALGO_AUTO;
  return p;
}

convt1d_status convt1d_validate(const convt1d_problem* problem) {
  return guarded([&] {
    require_problem(problem);
    convt1d::detail::validate(*problem);
  });
}

convt1d_status convt1d_output_length(const convt1d_problem* problem, int64_t* out_length) {
  return guarded([&] {
    require_problem(problem);
    if (out_length == nullptr)
      convt1d::detail::fail(CONVT1D_INVALID_ARGUMENT, "convt1d: out_length must be a non-null pointer, got NULL");
    convt1d::detail::validate(*problem);
    *out_length = convt1d::detail::output_length_unchecked(*problem);
  });
}

convt1d_status convt1d_forward(const convt1d_problem* problem, const void* x, const void* weight, const void* bias,
                               void* y, struct CUstream_st* stream) {
  return guarded([&] {
    require_problem(problem);
    convt1d::detail::forward(*problem, x, weight, bias, y, stream);
  });
}

convt1d_status convt1d_packed_weight_layout(const convt1d_problem* problem, convt1d_packed_layout* layout) {
  return guarded([&] {
    require_problem(problem);
    require_layout_pointer(layout);
    *layout = convt1d::detail::packed_weight_layout(*problem);
  });
}

convt1d_status convt1d_pack_weight(const convt1d_problem* problem, const void* weight, void* packed,
                                   const convt1d_packed_layout* layout, struct CUstream_st* stream) {
  return guarded([&] {
    require_problem(problem);
    require_layout_pointer(layout);
    convt1d::detail::pack_weight(*problem, weight, packed, *layout, stream);
  });
}

convt1d_status convt1d_forward_packed(const convt1d_problem* problem, const void* x, const void* weight,
                                      const void* packed, const convt1d_packed_layout* layout, const void* bias,
                                      void* y, struct CUstream_st* stream) {
  return guarded([&] {
    require_problem(problem);
    require_layout_pointer(layout);
    const convt1d::detail::PackedWeight w{packed, *layout};
    convt1d::detail::forward(*problem, x, weight, bias, y, stream, &w);
  });
}

const char* convt1d_last_error(void) { return g_last_error.c_str(); }

const char* convt1d_status_string(convt1d_status status) {
  switch (status) {
    case CONVT1D_OK: return "ok";
    case CONVT1D_INVALID_ARGUMENT: return "invalid argument";
    case CONVT1D_UNSUPPORTED: return "unsupported";
    case CONVT1D_CUDA_ERROR: return "CUDA error";
    case CONVT1D_INTERNAL_ERROR: return "internal error";
  }
  return "unknown status";
}

int convt1d_cuda_device_count(void) {
  try {
    return convt1d::detail::cuda_device_count();
  } catch (...) {
    return 0;
  }
}

const char* convt1d_version(void) { return CONVT1D_VERSION_STRING; }

}  // extern "C"
