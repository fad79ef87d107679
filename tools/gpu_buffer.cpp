#include "gpu_buffer.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#ifdef CONVT1D_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace convt1d::tools {

#ifdef CONVT1D_WITH_CUDA

namespace {
void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string(what) + " failed: " + cudaGetErrorString(err));
}
}  // namespace

GpuBuffer::GpuBuffer(std::size_t bytes) : bytes_(bytes) {
  if (bytes) check(cudaMalloc(&ptr_, bytes), "cudaMalloc");
}
GpuBuffer::~GpuBuffer() {
  if (ptr_) cudaFree(ptr_);
}
void GpuBuffer::upload(const void* host, std::size_t bytes) {
  if (bytes > bytes_) throw std::runtime_error("GpuBuffer::upload: more bytes than allocated");
  if (bytes) check(cudaMemcpy(ptr_, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy H2D");
}
void GpuBuffer::download(void* host, std::size_t bytes) const {
  if (bytes > bytes_) throw std::runtime_error("GpuBuffer::download: more bytes than allocated");
  if (bytes) check(cudaMemcpy(host, ptr_, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
}
void GpuBuffer::fill_bytes(unsigned char value) {
  if (bytes_) check(cudaMemset(ptr_, value, bytes_), "cudaMemset");
}
void gpu_synchronize() { check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

#else

namespace {
[[noreturn]] void no_cuda() { throw std::runtime_error("GpuBuffer: this build has no CUDA support"); }
}  // namespace

GpuBuffer::GpuBuffer(std::size_t bytes) : bytes_(bytes) {
  if (bytes) no_cuda();
}
GpuBuffer::~GpuBuffer() = default;
void GpuBuffer::upload(const void*, std::size_t) { no_cuda(); }
void GpuBuffer::download(void*, std::size_t) const { no_cuda(); }
void GpuBuffer::fill_bytes(unsigned char) { no_cuda(); }
void gpu_synchronize() { no_cuda(); }

#endif

GpuBuffer& GpuBuffer::operator=(GpuBuffer&& o) noexcept {
  if (this != &o) {
    GpuBuffer old(std::move(*this));
    ptr_ = std::exchange(o.ptr_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

}  // namespace convt1d::tools
