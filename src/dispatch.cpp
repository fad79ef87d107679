#include "dispatch.hpp"

#include <cstdint>
#include <string>

#include "backend.hpp"
#include "cpu/cpu_backend.hpp"
#include "plan.hpp"
#include "plan_cache.hpp"
#include "problem.hpp"
#include "tune_table.hpp"

namespace convt1d::detail {

namespace {

void require_pointer(const void* ptr, const char* what, const char* why) {
  if (ptr == nullptr)
    fail(CONVT1D_INVALID_ARGUMENT, std::string("convt1d: ") + what + " must be a non-null pointer (" + why + "), got NULL");
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

void forward(const convt1d_problem& p, const void* x, const void* w, const void* bias, void* y, void* stream) {
  const Shape s = shape_of(p);
  if (s.batch == 0) return;  // nothing to read or write; empty tensors may carry null pointers
  require_pointer(x, "x", "batch > 0");
  require_pointer(w, "weight", "batch > 0");
  require_pointer(y, "y", "batch > 0");
  if (p.has_bias) require_pointer(bias, "bias", "has_bias is 1");
  const void* b = p.has_bias ? bias : nullptr;

  if (p.device == CONVT1D_DEVICE_CPU) {
    make_plan(p, DeviceInfo{});  // rejects algorithms that cannot run on the CPU
    cpu_forward(p, x, w, b, y);
    return;
  }
  const DeviceInfo dev = cuda_current_device();
  std::shared_ptr<const Plan> cached;
  const convt1d_problem tuned = tune_file_named() ? tuned_problem(p, cuda_device_name(dev.ordinal)) : p;
  if (tuned.algorithm != p.algorithm) {
    try {
      cached = cached_plan(tuned, dev);
    } catch (const ApiError&) {  // the measured kernel cannot run this member of its shape class
      cached = cached_plan(p, dev);
    }
  } else {
    cached = cached_plan(p, dev);
  }
  const Plan* plan = cached.get();
  Plan unaligned;  // the plan with its fallback kernel, when TMA cannot read the operands in place
  // TMA reads x, and the weights but for the streaming kernel (which packs them first), in place.
  const bool streaming = plan->kernel == KernelKind::WgmmaStream;
  // (GEMM + col2im reads fp32 x and W through TMA; 16-bit ones through their fp32 copies.)
  const bool tma = streaming || plan->kernel == KernelKind::Wgmma ||
                   (plan->kernel == KernelKind::GemmCol2im && p.dtype == CONVT1D_FLOAT32);
  if (tma && !(aligned16(x) && (streaming || aligned16(w)))) {
    if (p.algorithm == CONVT1D_ALGO_WGMMA || p.algorithm == CONVT1D_ALGO_WGMMA_STREAM)
      fail(CONVT1D_UNSUPPORTED, std::string("convt1d: algorithm ") + algorithm_name(p.algorithm) +
                                    " needs x" + (streaming ? "" : " and weight") +
                                    " at 16-byte aligned addresses (TMA), got " + (aligned16(x) ? "weight" : "x") +
                                    " misaligned");
    unaligned = *plan;
    unaligned.kernel = plan->unaligned_fallback;
    plan = &unaligned;
  }
  cuda_check_pointer(x, "x", dev.ordinal);
  cuda_check_pointer(w, "weight", dev.ordinal);
  cuda_check_pointer(y, "y", dev.ordinal);
  if (b) cuda_check_pointer(b, "bias", dev.ordinal);
  const ForwardArgs args{x, w, b, y, stream, dev.ordinal};
  if (plan->kernel == KernelKind::Wgmma)
    launch_wgmma(*plan, args);
  else if (plan->kernel == KernelKind::WgmmaStream)
    launch_wgmma_stream(*plan, args);
  else if (plan->kernel == KernelKind::GemmCol2im)
    launch_gemm_col2im(*plan, *cached_plan(col2im_gemm_problem(p), dev), args);
  else if (plan->kernel == KernelKind::Narrow)
    launch_narrow(*plan, args);
  else if (plan->kernel == KernelKind::ImplicitGemm)
    launch_implicit_gemm(*plan, args);
  else
    launch_direct(*plan, args);
}

}  // namespace convt1d::detail
