#include "dispatch.hpp"

#include <cstdint>
#include <memory>
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

// The plan for p on `dev`: the tune file's measured algorithm for p's shape class where it names one
// that can run p, else AUTO's (or the forced algorithm's).
std::shared_ptr<const Plan> device_plan(const convt1d_problem& p, const DeviceInfo& dev) {
  const convt1d_problem tuned = tune_file_named() ? tuned_problem(p, cuda_device_name(dev.ordinal)) : p;
  if (tuned.algorithm != p.algorithm) {
    try {
      return cached_plan(tuned, dev);
    } catch (const ApiError&) {  // the measured kernel cannot run this member of its shape class
    }
  }
  return cached_plan(p, dev);
}

// Packed weights made for another arrangement than p's plan reads would give wrong outputs silently.
void require_layout(const convt1d_packed_layout& expected, const void* packed, const convt1d_packed_layout& given) {
  if (given.bytes != expected.bytes || given.id != expected.id)
    fail(CONVT1D_INVALID_ARGUMENT,
         "convt1d: packed weights of layout {bytes " + std::to_string(given.bytes) + ", id " + std::to_string(given.id) +
             "} do not fit this problem, whose plan reads layout {bytes " + std::to_string(expected.bytes) + ", id " +
             std::to_string(expected.id) + "}: pack the weights for it (convt1d_packed_weight_layout)");
  if (expected.bytes > 0) require_pointer(packed, "packed", "the problem's plan reads packed weights");
  if (expected.bytes > 0 && !aligned16(packed))
    fail(CONVT1D_INVALID_ARGUMENT, "convt1d: packed must be 16-byte aligned (as cudaMalloc's memory is), got an "
                                   "address 16 bytes do not divide");
}

convt1d_packed_layout c_layout(const PackedLayout& l) { return {static_cast<uint64_t>(l.bytes), l.id}; }

// p's plan on the current device, or nullptr where calls read no packed weights: on the CPU and for
// batch 0 (such calls run nothing). Validates p.
std::shared_ptr<const Plan> packing_plan(const convt1d_problem& p) {
  const Shape s = shape_of(p);
  if (p.device == CONVT1D_DEVICE_CPU) {
    make_plan(p, DeviceInfo{});  // rejects algorithms that cannot run on the CPU
    return nullptr;
  }
  if (s.batch == 0) return nullptr;
  return device_plan(p, cuda_current_device());
}

convt1d_packed_layout layout_of(const std::shared_ptr<const Plan>& plan) {
  return plan ? c_layout(packed_weight_layout(*plan)) : convt1d_packed_layout{};
}

}  // namespace

convt1d_packed_layout packed_weight_layout(const convt1d_problem& p) { return layout_of(packing_plan(p)); }

void pack_weight(const convt1d_problem& p, const void* w, void* packed, const convt1d_packed_layout& layout,
                 void* stream) {
  const std::shared_ptr<const Plan> plan = packing_plan(p);
  const convt1d_packed_layout expected = layout_of(plan);
  require_layout(expected, packed, layout);
  if (expected.bytes == 0) return;
  require_pointer(w, "weight", "the problem's plan packs its weights");
  const DeviceInfo dev = cuda_current_device();
  cuda_check_pointer(w, "weight", dev.ordinal);
  cuda_check_pointer(packed, "packed", dev.ordinal);
  pack_wgmma_weights(*plan, w, packed, stream);
}

void forward(const convt1d_problem& p, const void* x, const void* w, const void* bias, void* y, void* stream,
             const PackedWeight* packed) {
  const Shape s = shape_of(p);
  if (packed && (s.batch == 0 || p.device == CONVT1D_DEVICE_CPU)) require_layout({}, packed->data, packed->layout);
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
  const std::shared_ptr<const Plan> cached = device_plan(p, dev);
  const convt1d_packed_layout expected = packed ? layout_of(cached) : convt1d_packed_layout{};
  if (packed) require_layout(expected, packed->data, packed->layout);
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
  ForwardArgs args{x, w, b, y, stream, dev.ordinal};
  if (expected.bytes > 0 && plan == cached.get()) {  // (the fallback kernels read w)
    cuda_check_pointer(packed->data, "packed", dev.ordinal);
    args.packed_w = packed->data;
  }
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
