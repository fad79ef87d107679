// RAII device memory for the CLI and the tests, so that neither needs CUDA headers. In a CPU-only
// build every operation throws std::runtime_error("... no CUDA ...").
#pragma once

#include <cstddef>
#include <cstdint>

namespace convt1d::tools {

class GpuBuffer {
 public:
  GpuBuffer() = default;
  explicit GpuBuffer(std::size_t bytes);
  ~GpuBuffer();
  GpuBuffer(const GpuBuffer&) = delete;
  GpuBuffer& operator=(const GpuBuffer&) = delete;
  GpuBuffer(GpuBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) { o.ptr_ = nullptr; o.bytes_ = 0; }
  GpuBuffer& operator=(GpuBuffer&& o) noexcept;

  void* get() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }
  void upload(const void* host, std::size_t bytes);
  void download(void* host, std::size_t bytes) const;
  void fill_bytes(unsigned char value);  // e.g. 0xFF: every float/half/bf16 element becomes NaN

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// Waits for the device and throws with the CUDA error text if any earlier work failed.
void gpu_synchronize();

}  // namespace convt1d::tools
