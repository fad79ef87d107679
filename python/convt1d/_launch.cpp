// The eager call into libconvt1d from C++: a PyTorch extension that allocates the output and calls
// convt1d_forward for a problem the Python layer has already validated (ops._Signature).
//
// Why: from Python the same steps (torch.empty_like, four data_ptr() calls, a ctypes call that converts
// six arguments) cost ~3.5 us per call on the H100 host; here they are one pybind11 call, at::empty and
// a C call. The library entry points come from the libconvt1d that ctypes loaded (bind), so both paths
// run one copy of the library. Built by scripts/build_torch_ext.py for the torch it is compiled against.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <torch/csrc/utils/pybind.h>

#include "convt1d/convt1d.h"

namespace {

using ForwardFn = convt1d_status (*)(const convt1d_problem*, const void*, const void*, const void*, void*,
                                     CUstream_st*);
using LastErrorFn = const char* (*)();
using StatusStringFn = const char* (*)(convt1d_status);

ForwardFn g_forward = nullptr;
LastErrorFn g_last_error = nullptr;
StatusStringFn g_status_string = nullptr;

void bind(std::uintptr_t forward, std::uintptr_t last_error, std::uintptr_t status_string) {
  g_forward = reinterpret_cast<ForwardFn>(forward);
  g_last_error = reinterpret_cast<LastErrorFn>(last_error);
  g_status_string = reinterpret_cast<StatusStringFn>(status_string);
}

// problem: address of the signature's convt1d_problem (alive as long as the signature); x, weight and
// bias of its shapes, dtype and device; stream: the raw cudaStream_t (0 for the CPU).
at::Tensor launch(std::uintptr_t problem_address, const at::Tensor& x, const at::Tensor& weight,
                  const std::optional<at::Tensor>& bias, int64_t out_length, std::uintptr_t stream) {
  if (g_forward == nullptr) throw std::runtime_error("convt1d: the C++ launcher was used before bind()");
  const auto* problem = reinterpret_cast<const convt1d_problem*>(problem_address);
  const at::Tensor xc = x.contiguous();
  const at::Tensor wc = weight.contiguous();
  at::Tensor y = at::empty({problem->batch, problem->out_channels, out_length}, x.options());
  if (problem->batch == 0) return y;
  at::Tensor bc;
  if (bias.has_value()) bc = bias->contiguous();
  const void* bias_ptr = bias.has_value() ? bc.data_ptr() : nullptr;
  convt1d_status status;
  if (problem->device == CONVT1D_DEVICE_CPU) {
    // The CPU backend computes for as long as the problem takes: other Python threads may run meanwhile.
    pybind11::gil_scoped_release unlocked;
    status = g_forward(problem, xc.data_ptr(), wc.data_ptr(), bias_ptr, y.data_ptr(), nullptr);
  } else {
    status = g_forward(problem, xc.data_ptr(), wc.data_ptr(), bias_ptr, y.data_ptr(),
                       reinterpret_cast<CUstream_st*>(stream));
  }
  if (status != CONVT1D_OK) {
    std::string message = g_last_error();
    if (message.empty())
      message = "convt1d: call failed with status " + std::to_string(static_cast<int>(status)) + " (" +
                g_status_string(status) + ")";
    throw std::runtime_error(message);
  }
  return y;
}

}  // namespace

PYBIND11_MODULE(_convt1d_launch, m) {
  m.doc() = "convt1d's eager launcher (see python/convt1d/_launch.cpp)";
  m.attr("torch_version") = CONVT1D_TORCH_VERSION;
  m.def("bind", &bind);
  m.def("launch", &launch);
}
