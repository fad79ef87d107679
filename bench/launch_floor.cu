// The shortest call `convt1d bench` can time: kernels that do (almost) nothing, timed as the bench times
// a layer (tools/bench/gpu_timer.cpp): an L2 flush (cudaMemsetAsync over twice the L2), then CUDA events
// around one launch, median of many. What a B = 1 layer's time has above this is its kernel's own work;
// the issue's "<= 10 us" for small layers leaves it ~6 us on an H100 (4.0 us here for an empty kernel).
// Variants: the grid and the dynamic shared memory (an SM's carve-out changes with it), a kernel that
// loads one line per block from DRAM (one round trip), and the same without the flush (the host's
// enqueue time then shows, as in back-to-back launches without other work queued).
//
// Build and run (any sm_80+ GPU): nvcc -O3 -arch=native -o launch_floor bench/launch_floor.cu && ./launch_floor
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

constexpr int kRepeats = 200;
constexpr size_t kFlushBytes = size_t{100} << 20;  // over twice the H100's and H200's 50 MB L2
constexpr size_t kLoadBytes = size_t{64} << 20;
constexpr int kSmemOptIn = 220 * 1024;
constexpr int kNever = -1;  // a flag no launch passes: keeps the empty kernel's body from being dropped

__global__ void empty_kernel(int* flag, int never) {
  if (threadIdx.x == never) *flag = 1;
}

// One 128-byte line per block (its first warp), from a buffer the flush pushed out of L2.
__global__ void one_load_kernel(const int* __restrict__ src, int* flag, int never) {
  const int v = src[blockIdx.x * 32 + threadIdx.x % 32];
  if (v == never) *flag = v;
}

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
    std::exit(1);
  }
}

struct Variant {
  const char* name;
  int blocks, threads, smem;
  bool load;
};

}  // namespace

int main() {
  void* flush = nullptr;
  int* data = nullptr;
  check(cudaMalloc(&flush, kFlushBytes), "cudaMalloc (flush)");
  check(cudaMalloc(&data, kLoadBytes), "cudaMalloc (data)");
  check(cudaMemset(data, 0, kLoadBytes), "cudaMemset");
  check(cudaFuncSetAttribute(empty_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemOptIn), "opt-in");
  check(cudaFuncSetAttribute(one_load_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemOptIn), "opt-in");
  const Variant variants[] = {
      {"empty, 1 x 128, no smem", 1, 128, 0, false},
      {"empty, 132 x 384, no smem", 132, 384, 0, false},
      {"empty, 132 x 384, 200 KB smem", 132, 384, 200 * 1024, false},
      {"empty, 264 x 384, 100 KB smem", 264, 384, 100 * 1024, false},
      {"one load, 132 x 384, 200 KB", 132, 384, 200 * 1024, true},
      {"one load, 132 x 384, no smem", 132, 384, 0, true},
  };
  std::vector<cudaEvent_t> events(2 * kRepeats);
  for (cudaEvent_t& e : events) check(cudaEventCreate(&e), "cudaEventCreate");
  std::printf("%-32s %-8s %10s %10s\n", "kernel", "L2", "median us", "p10 us");
  for (const bool flushed : {true, false}) {
    for (const Variant& v : variants) {
      for (int i = 0; i < kRepeats; ++i) {
        if (flushed) check(cudaMemsetAsync(flush, i & 0xFF, kFlushBytes), "flush");
        check(cudaEventRecord(events[2 * i]), "cudaEventRecord");
        if (v.load)
          one_load_kernel<<<v.blocks, v.threads, v.smem>>>(data, data + 1, kNever);
        else
          empty_kernel<<<v.blocks, v.threads, v.smem>>>(data, kNever);
        check(cudaGetLastError(), "launch");
        check(cudaEventRecord(events[2 * i + 1]), "cudaEventRecord");
      }
      check(cudaDeviceSynchronize(), "synchronize");
      std::vector<float> ms(kRepeats);
      for (int i = 0; i < kRepeats; ++i)
        check(cudaEventElapsedTime(&ms[i], events[2 * i], events[2 * i + 1]), "cudaEventElapsedTime");
      std::sort(ms.begin(), ms.end());
      std::printf("%-32s %-8s %10.2f %10.2f\n", v.name, flushed ? "flushed" : "warm", ms[kRepeats / 2] * 1e3,
                  ms[kRepeats / 10] * 1e3);
    }
  }
  for (cudaEvent_t e : events) cudaEventDestroy(e);
  cudaFree(flush);
  cudaFree(data);
  return 0;
}
