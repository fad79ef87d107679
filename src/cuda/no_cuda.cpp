// CPU-only build: the CUDA backend exists but reports that it is absent.
#include "backend.hpp"

namespace convt1d::detail {

namespace {
[[noreturn]] void no_cuda() {
  fail(CONVT1D_UNSUPPORTED, "convt1d: device cuda requested, but this build of convt1d has no CUDA support "
                            "(configure with nvcc available)");
}
}  // namespace

int cuda_device_count() { return 0; }
DeviceInfo cuda_current_device() { no_cuda(); }
std::string cuda_device_name(int) { no_cuda(); }
void cuda_check_pointer(const void*, const char*, int) { no_cuda(); }
void launch_direct(const Plan&, const ForwardArgs&) { no_cuda(); }
void launch_implicit_gemm(const Plan&, const ForwardArgs&) { no_cuda(); }
void launch_wgmma(const Plan&, const ForwardArgs&) { no_cuda(); }
void launch_wgmma_tf32(const Plan&, const ForwardArgs&) { no_cuda(); }
void pack_wgmma_weights(const Plan&, const void*, void*, void*) { no_cuda(); }
void launch_wgmma_stream(const Plan&, const ForwardArgs&) { no_cuda(); }
void launch_narrow(const Plan&, const ForwardArgs&) { no_cuda(); }
void launch_gemm_col2im(const Plan&, const Plan&, const ForwardArgs&) { no_cuda(); }

}  // namespace convt1d::detail
