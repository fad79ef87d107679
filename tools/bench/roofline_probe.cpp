#include "bench/roofline_probe.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "bench/gpu_timer.hpp"
#include "bench/modes.hpp"
#include "gpu_buffer.hpp"

namespace convt1d::bench {

namespace {

double measure_copy_gbps(L2Flusher* flusher) {
  // 1 GiB each way: far beyond L2, long enough that launch overhead is noise.
  const std::size_t bytes = std::size_t(1) << 30;
  tools::GpuBuffer src(bytes), dst(bytes);
  src.fill_bytes(0x5a);
  const Stats s = time_on_gpu(
      [&] { cuda_ok(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, nullptr), "cudaMemcpyAsync"); },
      2, 10, flusher);
  return 2.0 * static_cast<double>(bytes) / (s.min * 1e-3) / 1e9;
}

double measure_gemm_tflops(cublasHandle_t handle, Mode mode) {
  const int n = 8192;
  const bool wide = mode_element_bytes(mode) == 4;
  const cudaDataType_t type = mode == Mode::FP16 ? CUDA_R_16F : mode == Mode::BF16 ? CUDA_R_16BF : CUDA_R_32F;
  const cublasComputeType_t compute = mode == Mode::TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  const std::size_t bytes = std::size_t(n) * n * (wide ? 4 : 2);
  tools::GpuBuffer a(bytes), b(bytes), c(bytes);
  // Non-zero data: tensor cores draw less power (and clock higher) on zeros, which would flatter the rate.
  a.fill_bytes(0x3c);
  b.fill_bytes(0x3b);
  const float alpha = 1.0f, beta = 0.0f;
  auto launch = [&] {
    const cublasStatus_t st = cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a.get(), type, n, b.get(),
                                           type, n, &beta, c.get(), type, n, compute, CUBLAS_GEMM_DEFAULT);
    if (st != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("cublasGemmEx failed with status " + std::to_string(st));
  };
  const Stats s = time_on_gpu(launch, 2, 5, nullptr);
  return 2.0 * n * double(n) * n / (s.median * 1e-3) / 1e12;
}

}  // namespace

DeviceCeilings probe_device(bool measure) {
  DeviceCeilings d;
  int device = 0;
  cuda_ok(cudaGetDevice(&device), "cudaGetDevice");
  cudaDeviceProp prop{};
  cuda_ok(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  d.name = prop.name;
  d.sm_count = prop.multiProcessorCount;
  d.l2_bytes = prop.l2CacheSize;
  if (!measure) return d;

  try {
    L2Flusher flusher(static_cast<std::size_t>(d.l2_bytes));
    d.copy_gbps = measure_copy_gbps(&flusher);
  } catch (const std::exception& e) {
    d.notes.push_back(std::string("copy bandwidth not measured: ") + e.what());
  }
  cublasHandle_t handle = nullptr;
  if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) {
    d.notes.push_back("cuBLAS unavailable (cublasCreate failed): no GEMM ceilings");
    return d;
  }
  for (Mode m : all_modes()) {
    try {
      d.gemm_tflops[static_cast<int>(m)] = measure_gemm_tflops(handle, m);
    } catch (const std::exception& e) {
      d.notes.push_back(std::string("GEMM rate ") + mode_name(m) + " not measured: " + e.what());
    }
  }
  cublasDestroy(handle);
  return d;
}

}  // namespace convt1d::bench
