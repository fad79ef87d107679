// A stream-ordered workspace (cudaMallocFromPoolAsync from the library's pool, workspace_pool.cuh:
// cached across calls and synchronisations, CUDA-graph capturable) that goes back to the pool in stream
// order after the launches that use it, and on error paths too.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <string>

#include "cuda/cuda_check.cuh"
#include "cuda/workspace_pool.cuh"

namespace convt1d::detail {

class StreamBuffer {
 public:
  // `name` says what the workspace holds, in error messages ("cudaMallocFromPoolAsync(<name>)"). Zero bytes
  // allocate nothing (a workspace the plan does not need).
  StreamBuffer(size_t bytes, cudaStream_t stream, const char* name) : stream_(stream), name_(name) {
    if (bytes == 0) return;
    int device = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    check(cudaMallocFromPoolAsync(&ptr_, bytes, workspace_pool(device), stream_), "cudaMallocFromPoolAsync");
  }
  ~StreamBuffer() {  // on the error path only (release() has freed it otherwise): nothing to report to
    if (ptr_) (void)cudaFreeAsync(ptr_, stream_);
  }
  // After the last launch that reads it.
  void release() {
    void* p = ptr_;
    ptr_ = nullptr;
    if (p) check(cudaFreeAsync(p, stream_), "cudaFreeAsync");
  }
  StreamBuffer(const StreamBuffer&) = delete;
  StreamBuffer& operator=(const StreamBuffer&) = delete;
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }

 private:
  void check(cudaError_t err, const char* call) const {
    if (err != cudaSuccess) cuda_check(err, (std::string(call) + "(" + name_ + ")").c_str());
  }
  cudaStream_t stream_;
  const char* name_;
  void* ptr_ = nullptr;
};

}  // namespace convt1d::detail
